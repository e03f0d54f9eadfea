/// The live tokens, packed: one array of fixed-size records (slots), a digest
/// index over them, and a doubly linked list per user through the records.
/// Removing a record moves the last one into its slot, so slots stay dense.
/// Not thread-safe: ``TokenCache`` holds it under its lock.
struct TokenTable: Sendable {
    private(set) var records: [PackedToken] = []
    /// By digest; a digest is a uniform SHA-256, so its first word is its hash.
    private var index: SlotIndex
    /// The first slot of each user's list.
    private var heads: [Int64: UInt32] = [:]
    /// Labels and fingerprints, which most tokens lack, by token id.
    private var labels: [Int64: String] = [:]
    private var fingerprints: [Int64: [UInt8]] = [:]
    private(set) var sessionCount = 0

    /// A table that takes `capacity` tokens without reallocating.
    init(capacity: Int = 0) {
        index = SlotIndex(capacity: capacity)
        records.reserveCapacity(capacity)
    }

    var count: Int { records.count }

    func slot(of digest: TokenDigest) -> Int? { index.find(digest.a) { records[$0].digest == digest } }

    /// The full record in `slot`.
    func record(at slot: Int) -> TokenRecord {
        let t = records[slot]
        return TokenRecord(
            id: t.id, digest: t.digest, purpose: t.purpose, userId: t.userId,
            label: t.flags.contains(.hasLabel) ? labels[t.id] ?? "" : "",
            fingerprint: t.flags.contains(.hasFingerprint) ? fingerprints[t.id] : nil, createdAt: t.createdAt,
            expiresAt: t.expiresAt, lastUsed: t.lastUsed)
    }

    /// Adds a token, replacing any with the same digest.
    mutating func insert(_ r: TokenRecord) {
        if let old = slot(of: r.digest) { remove(at: old) }
        append(r)
    }

    /// Adds a token whose digest is not in the table yet (a bulk load from the
    /// store, whose digest column is unique): one probe fewer than `insert`.
    mutating func append(_ r: TokenRecord) {
        assert(slot(of: r.digest) == nil, "TokenTable: duplicate digest")
        precondition(records.count < Int(PackedToken.noSlot) - 1, "TokenTable: too many tokens")
        let slot = records.count
        var t = PackedToken(r)
        if let head = heads[r.userId] {
            t.next = head
            records[Int(head)].prev = UInt32(slot)
        }
        heads[r.userId] = UInt32(slot)
        records.append(t)
        index.insert(r.digest.a, slot: slot)
        if t.flags.contains(.hasLabel) { labels[r.id] = r.label }
        if t.flags.contains(.hasFingerprint) { fingerprints[r.id] = r.fingerprint }
        if r.purpose == .session { sessionCount += 1 }
    }

    /// Removes the token in `slot`; the last record moves into it.
    mutating func remove(at slot: Int) {
        let gone = records[slot]
        unlink(slot)
        index.remove(gone.digest.a, slot: slot)
        if gone.flags.contains(.hasLabel) { labels[gone.id] = nil }
        if gone.flags.contains(.hasFingerprint) { fingerprints[gone.id] = nil }
        if gone.purpose == .session { sessionCount -= 1 }
        let last = records.count - 1
        if slot != last {
            // Read after unlinking: the last record may have been the removed one's neighbour.
            let moved = records[last]
            records[slot] = moved
            index.move(moved.digest.a, from: last, to: slot)
            if moved.prev != PackedToken.noSlot {
                records[Int(moved.prev)].next = UInt32(slot)
            } else {
                heads[moved.userId] = UInt32(slot)
            }
            if moved.next != PackedToken.noSlot { records[Int(moved.next)].prev = UInt32(slot) }
        }
        records.removeLast()
    }

    /// Takes `slot` out of its user's list.
    private mutating func unlink(_ slot: Int) {
        let t = records[slot]
        if t.prev != PackedToken.noSlot {
            records[Int(t.prev)].next = t.next
        } else if t.next != PackedToken.noSlot {
            heads[t.userId] = t.next
        } else {
            heads[t.userId] = nil
        }
        if t.next != PackedToken.noSlot { records[Int(t.next)].prev = t.prev }
    }

    /// The slots of a user's tokens, newest insertion first.
    func slots(userId: Int64) -> [Int] {
        var out: [Int] = []
        var next = heads[userId] ?? PackedToken.noSlot
        while next != PackedToken.noSlot {
            out.append(Int(next))
            next = records[Int(next)].next
        }
        return out
    }

    /// Removes a user's tokens of `purpose` (all when nil); returns how many.
    mutating func removeAll(userId: Int64, purpose: TokenPurpose?) -> Int {
        let doomed = slots(userId: userId).filter { purpose == nil || records[$0].purpose == purpose }
        // Highest slot first: each move brings in a record from past every slot still to remove.
        for slot in doomed.sorted(by: >) { remove(at: slot) }
        return doomed.count
    }

    /// Removes tokens expired at `now`; returns how many.
    mutating func removeExpired(now: Int64) -> Int {
        var removed = 0
        // Downwards: the record moved into a freed slot has already been looked at.
        for slot in records.indices.reversed() where records[slot].expiresAt <= now {
            remove(at: slot)
            removed += 1
        }
        return removed
    }

    /// Records a use of the live session with `digest`; see ``PackedToken/touchSession(now:slidingTTL:)``.
    mutating func touchSession(_ digest: TokenDigest, now: Int64, slidingTTL: Int64) -> (
        userId: Int64, expiresAt: Int64
    )? {
        guard let slot = slot(of: digest), records[slot].touchSession(now: now, slidingTTL: slidingTTL) else {
            return nil
        }
        return (records[slot].userId, records[slot].expiresAt)
    }

    /// The uses recorded since the last call, which it clears.
    mutating func takeDirty() -> [(id: Int64, lastUsed: Int64?, expiresAt: Int64)] {
        var out: [(id: Int64, lastUsed: Int64?, expiresAt: Int64)] = []
        for slot in records.indices where records[slot].flags.contains(.dirty) {
            records[slot].flags.remove(.dirty)
            out.append((records[slot].id, records[slot].lastUsed, records[slot].expiresAt))
        }
        return out
    }
}
