/// Finds a token's slot in the token table by its digest: open addressing
/// over a power-of-two array of `UInt32` (slot + 1, 0 empty), linear probing,
/// at most 3/4 full, backward-shift deletion (no tombstones).  A digest is a
/// uniform SHA-256, so its first word is the hash.
///
/// The index holds slots, not digests: every operation reads the digests from
/// the table's records, whose slots `0..<count` it indexes.
struct DigestIndex: Sendable {
    private var buckets: [UInt32]
    private var mask: Int
    private(set) var count = 0

    /// An index that takes `capacity` digests without growing.
    init(capacity: Int = 0) {
        let size = Self.size(for: capacity)
        buckets = [UInt32](repeating: 0, count: size)
        mask = size - 1
    }

    /// The smallest power of two (at least 8) of which `capacity` is at most 3/4.
    static func size(for capacity: Int) -> Int {
        var size = 8
        while size / 4 * 3 < capacity { size <<= 1 }
        return size
    }

    var bucketCount: Int { buckets.count }

    private func home(_ digest: TokenDigest) -> Int { Int(truncatingIfNeeded: digest.a) & mask }

    /// The slot holding `digest`, if any.
    func find(_ digest: TokenDigest, in records: [PackedToken]) -> Int? {
        var i = home(digest)
        while true {
            let value = buckets[i]
            if value == 0 { return nil }
            let slot = Int(value &- 1)
            if records[slot].digest == digest { return slot }
            i = (i &+ 1) & mask
        }
    }

    /// Indexes the record just appended at `slot == count`, doubling first when
    /// it would make the index more than 3/4 full.
    mutating func insert(slot: Int, in records: [PackedToken]) {
        precondition(slot == count && slot < records.count, "DigestIndex: slots must be indexed in order")
        if count + 1 > buckets.count / 4 * 3 { rebuild(size: buckets.count * 2, records) }
        place(slot, records[slot].digest)
        count += 1
    }

    /// Unindexes `slot`, the last step before the table forgets it; the records
    /// after the gap in its cluster move back, so no probe ever needs a tombstone.
    mutating func remove(slot: Int, in records: [PackedToken]) {
        var hole = bucket(of: slot, records[slot].digest)
        var i = (hole &+ 1) & mask
        while true {
            let value = buckets[i]
            if value == 0 { break }
            // The entry at i may fill the hole when its home is not in (hole, i]:
            // it is at least as far from its home as from the hole.
            let from = home(records[Int(value &- 1)].digest)
            if (i &- from) & mask >= (i &- hole) & mask {
                buckets[hole] = value
                hole = i
            }
            i = (i &+ 1) & mask
        }
        buckets[hole] = 0
        count -= 1
    }

    /// Points the entry of the record with `digest` at `new` instead of `old`
    /// (the table moved the record).
    mutating func move(_ digest: TokenDigest, from old: Int, to new: Int) {
        buckets[bucket(of: old, digest)] = UInt32(new + 1)
    }

    /// The bucket holding `slot`, whose digest is `digest`.
    private func bucket(of slot: Int, _ digest: TokenDigest) -> Int {
        let value = UInt32(slot + 1)
        var i = home(digest)
        while buckets[i] != value {
            precondition(buckets[i] != 0, "DigestIndex: slot \(slot) is not indexed")
            i = (i &+ 1) & mask
        }
        return i
    }

    private mutating func place(_ slot: Int, _ digest: TokenDigest) {
        var i = home(digest)
        while buckets[i] != 0 { i = (i &+ 1) & mask }
        buckets[i] = UInt32(slot + 1)
    }

    /// Reindexes slots `0..<count` into `size` buckets.
    private mutating func rebuild(size: Int, _ records: [PackedToken]) {
        buckets = []  // the old array goes before the new one is made
        buckets = [UInt32](repeating: 0, count: size)
        mask = size - 1
        for slot in 0..<count { place(slot, records[slot].digest) }
    }
}
