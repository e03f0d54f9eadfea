/// A hash index from keys to slots of an array kept elsewhere (the user
/// cache's entries, the token table's records): the keys themselves are not
/// stored, a lookup checks the candidate slot's entry.
///
/// Each bucket is one `UInt64`: the high 32 bits of the key's 64-bit hash (a
/// tag that rejects most non-matching candidates without touching the
/// entries) and the slot + 1 in the low 32 bits (0 is an empty bucket).  The
/// home bucket comes from the top bits of the hash, which the tag holds, so
/// the table can grow without the keys.  Linear probing, at most 3/4 full,
/// removal by backward shift (no tombstones).  8 bytes a bucket, 11–21
/// bytes an entry, where a `Dictionary<String, Int64>` takes 32–64 and a
/// copy of the key.
struct SlotIndex: Sendable {
    private var buckets: [UInt64]
    private var shift: UInt64
    private(set) var count = 0

    private static let tagMask: UInt64 = 0xFFFF_FFFF_0000_0000
    private static let minimumBits = 4

    /// An index sized for `capacity` entries without growing.
    init(capacity: Int = 0) {
        var bits = Self.minimumBits
        while (1 << bits) * 3 / 4 < capacity { bits += 1 }
        precondition(bits <= 32, "more entries than a 32-bit slot index holds")
        buckets = Array(repeating: 0, count: 1 << bits)
        shift = UInt64(64 - bits)
    }

    /// An index of slots `0..<count`, slot `i` under `hash(i)` (not indexed
    /// when nil), built in one pass: the buckets are sorted by their home and
    /// laid down in order, so the table is written front to back instead of
    /// at random (start-up builds indexes of a million users).
    init(count: Int, hash: (Int) -> UInt64?) {
        self.init(capacity: count)
        var values: [UInt64] = []
        values.reserveCapacity(count)
        for slot in 0..<count {
            if let h = hash(slot) { values.append(h & Self.tagMask | UInt64(slot + 1)) }
        }
        values.sort()
        var next = 0
        for value in values {
            let i = Swift.max(home(value), next)
            if i < buckets.count {
                buckets[i] = value
                next = i + 1
            } else {
                place(value)  // the run wraps around to the front
            }
        }
        self.count = values.count
    }

    private var mask: Int { buckets.count - 1 }
    private func home(_ hash: UInt64) -> Int { Int(truncatingIfNeeded: hash >> shift) }
    private static func slot(_ bucket: UInt64) -> Int { Int(truncatingIfNeeded: bucket & 0xFFFF_FFFF) - 1 }

    /// The slot whose entry `matches`, among those indexed under `hash`.
    func find(_ hash: UInt64, _ matches: (Int) -> Bool) -> Int? {
        let tag = hash & Self.tagMask
        var i = home(hash)
        while true {
            let bucket = buckets[i]
            if bucket == 0 { return nil }
            if bucket & Self.tagMask == tag, matches(Self.slot(bucket)) { return Self.slot(bucket) }
            i = (i + 1) & mask
        }
    }

    /// Indexes `slot` under `hash` (the caller ensures the key is not indexed yet).
    mutating func insert(_ hash: UInt64, slot: Int) {
        precondition(slot >= 0 && slot < Int(UInt32.max), "slot out of range")
        if (count + 1) * 4 > buckets.count * 3 { grow() }
        place(hash & Self.tagMask | UInt64(slot + 1))
        count += 1
    }

    /// Removes the entry for `slot` indexed under `hash`; false when there is none.
    @discardableResult
    mutating func remove(_ hash: UInt64, slot: Int) -> Bool {
        guard var hole = bucketIndex(hash, slot: slot) else { return false }
        // Backward shift: pull later buckets of the run into the hole unless
        // their home lies cyclically within (hole, j].
        var j = hole
        while true {
            j = (j + 1) & mask
            let bucket = buckets[j]
            if bucket == 0 { break }
            let k = home(bucket)
            let stays = hole <= j ? (hole < k && k <= j) : (hole < k || k <= j)
            if stays { continue }
            buckets[hole] = bucket
            hole = j
        }
        buckets[hole] = 0
        count -= 1
        return true
    }

    /// Points the entry indexed under `hash` at `newSlot` instead of `oldSlot`
    /// (the entry moved in the array).
    mutating func move(_ hash: UInt64, from oldSlot: Int, to newSlot: Int) {
        guard let i = bucketIndex(hash, slot: oldSlot) else {
            preconditionFailure("moving a slot that is not indexed")
        }
        buckets[i] = buckets[i] & Self.tagMask | UInt64(newSlot + 1)
    }

    /// Bytes the table occupies (for memory accounting).
    var byteCount: Int { buckets.count * MemoryLayout<UInt64>.stride }

    private func bucketIndex(_ hash: UInt64, slot: Int) -> Int? {
        let wanted = hash & Self.tagMask | UInt64(slot + 1)
        var i = home(hash)
        while true {
            let bucket = buckets[i]
            if bucket == 0 { return nil }
            if bucket == wanted { return i }
            i = (i + 1) & mask
        }
    }

    private mutating func place(_ bucket: UInt64) {
        var i = home(bucket)
        while buckets[i] != 0 { i = (i + 1) & mask }
        buckets[i] = bucket
    }

    private mutating func grow() {
        let old = buckets
        precondition(shift > 32, "more entries than a 32-bit slot index holds")
        buckets = Array(repeating: 0, count: old.count * 2)
        shift -= 1
        for bucket in old where bucket != 0 { place(bucket) }
    }
}

/// The 64-bit hashes the user indexes are keyed by (the token table uses
/// the first word of a token's SHA-256 digest).
enum SlotHash {
    /// Fibonacci hashing: ids are mostly consecutive, the product spreads
    /// them over the top bits.
    static func id(_ id: Int64) -> UInt64 { UInt64(bitPattern: id) &* 0x9E37_79B9_7F4A_7C15 }

    /// Swift's seeded hash (SipHash): usernames and emails come from clients,
    /// so the table cannot be flooded with chosen collisions.
    static func of<K: Hashable>(_ key: K) -> UInt64 { UInt64(bitPattern: Int64(key.hashValue)) }
}
