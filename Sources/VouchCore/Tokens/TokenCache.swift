
/// Every live token in memory, by digest, with an index by user, so that
/// verification never touches the database.
final class TokenCache: Sendable {
    struct Entry: Sendable {
        var id: Int64
        var purpose: TokenPurpose
        var userId: Int64
        var label: String
        var fingerprint: [UInt8]?
        var createdAt: Int64
        var expiresAt: Int64
        var lastUsed: Int64?
        /// lastUsed or expiresAt changed in memory since the last flush.
        var dirty: Bool

        init(_ r: TokenRecord) {
            id = r.id
            purpose = r.purpose
            userId = r.userId
            label = r.label
            fingerprint = r.fingerprint
            createdAt = r.createdAt
            expiresAt = r.expiresAt
            lastUsed = r.lastUsed
            dirty = false
        }

        func record(_ digest: TokenDigest) -> TokenRecord {
            TokenRecord(
                id: id, digest: digest, purpose: purpose, userId: userId, label: label, fingerprint: fingerprint,
                createdAt: createdAt, expiresAt: expiresAt, lastUsed: lastUsed)
        }
    }

    struct State {
        var byDigest: [TokenDigest: Entry] = [:]
        var byUser: [Int64: [TokenDigest]] = [:]
        var sessions = 0

        mutating func insert(_ digest: TokenDigest, _ entry: Entry) {
            byDigest[digest] = entry
            byUser[entry.userId, default: []].append(digest)
            if entry.purpose == .session { sessions += 1 }
        }

        @discardableResult
        mutating func remove(_ digest: TokenDigest) -> Entry? {
            guard let entry = byDigest.removeValue(forKey: digest) else { return nil }
            if entry.purpose == .session { sessions -= 1 }
            if var list = byUser[entry.userId] {
                list.removeAll { $0 == digest }
                byUser[entry.userId] = list.isEmpty ? nil : list
            }
            return entry
        }
    }

    let state = Locked(State())

    func replaceAll(_ records: [TokenRecord]) {
        state.withLock { s in
            s = State()
            s.byDigest.reserveCapacity(records.count)
            for r in records { s.insert(r.digest, Entry(r)) }
        }
    }

    func insert(_ record: TokenRecord) {
        state.withLock { $0.insert(record.digest, Entry(record)) }
    }

    @discardableResult
    func remove(_ digest: TokenDigest) -> Entry? { state.withLock { $0.remove(digest) } }

    /// Removes a user's tokens of `purpose` (all when nil); returns the removed digests.
    @discardableResult
    func removeAll(userId: Int64, purpose: TokenPurpose?) -> Int {
        state.withLock { s in
            let digests = (s.byUser[userId] ?? []).filter { d in purpose == nil || s.byDigest[d]?.purpose == purpose }
            for d in digests { s.remove(d) }
            return digests.count
        }
    }

    func entry(_ digest: TokenDigest) -> Entry? { state.withLock { $0.byDigest[digest] } }

    func records(userId: Int64) -> [TokenRecord] {
        state.withLock { s in (s.byUser[userId] ?? []).compactMap { d in s.byDigest[d]?.record(d) } }
    }

    var sessionCount: Int { state.withLock { $0.sessions } }
    var count: Int { state.withLock { $0.byDigest.count } }

    /// Removes tokens expired at `now`; returns how many.
    func removeExpired(now: Int64) -> Int {
        state.withLock { s in
            let expired = s.byDigest.filter { $0.value.expiresAt <= now }.map(\.key)
            for d in expired { s.remove(d) }
            return expired.count
        }
    }

    /// Takes the entries whose use changed since the last call.
    func takeDirty() -> [(id: Int64, lastUsed: Int64?, expiresAt: Int64)] {
        state.withLock { s in
            var out: [(id: Int64, lastUsed: Int64?, expiresAt: Int64)] = []
            var digests: [TokenDigest] = []
            for (d, e) in s.byDigest where e.dirty {
                out.append((e.id, e.lastUsed, e.expiresAt))
                digests.append(d)
            }
            // Cleared after the loop, so iterating never copies the table.
            for d in digests { s.byDigest[d]?.dirty = false }
            return out
        }
    }
}
