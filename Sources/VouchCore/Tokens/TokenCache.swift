/// Every live token in memory, by digest, with an index by user, so that
/// verification never touches the database.  The storage is a ``TokenTable``
/// (about a hundred bytes a token); nothing outside this class sees it.
final class TokenCache: Sendable {
    /// Fills a table outside the lock, row by row, for ``replaceAll(with:)``.
    /// The tokens' digests must be distinct, as the store's are.
    struct Builder: Sendable {
        fileprivate var table = TokenTable()

        init() {}

        /// Sizes the table for `count` tokens, so adding them never rehashes.
        mutating func reserve(_ count: Int) {
            if table.count == 0 { table = TokenTable(capacity: count) }
        }

        mutating func add(_ record: TokenRecord) { table.append(record) }

        var count: Int { table.count }
    }

    private let state = Locked(TokenTable())

    /// The one place the lock is taken.
    private func withState<R: Sendable>(_ body: (inout TokenTable) -> R) -> R {
        state.withLock { body(&$0) }
    }

    func replaceAll(with builder: Builder) {
        let table = builder.table
        withState { $0 = table }
    }

    /// Adds a token, replacing any with the same digest.
    func insert(_ record: TokenRecord) { withState { $0.insert(record) } }

    /// Removes a token; returns it if it was there.
    @discardableResult
    func remove(_ digest: TokenDigest) -> TokenRecord? {
        withState { s in
            guard let slot = s.slot(of: digest) else { return nil }
            let record = s.record(at: slot)
            s.remove(at: slot)
            return record
        }
    }

    /// Removes a user's tokens of `purpose` (all when nil); returns how many.
    @discardableResult
    func removeAll(userId: Int64, purpose: TokenPurpose?) -> Int {
        withState { $0.removeAll(userId: userId, purpose: purpose) }
    }

    func entry(_ digest: TokenDigest) -> TokenRecord? {
        withState { s in s.slot(of: digest).map { s.record(at: $0) } }
    }

    /// A user's tokens, in no particular order.
    func records(userId: Int64) -> [TokenRecord] {
        withState { s in s.slots(userId: userId).map { s.record(at: $0) } }
    }

    /// The user and expiry of the live session with `digest`, recording its use
    /// at `now` and renewing it when less than half of `slidingTTL` is left (0: never).
    func touchSession(_ digest: TokenDigest, now: Int64, slidingTTL: Int64) -> (userId: Int64, expiresAt: Int64)? {
        withState { $0.touchSession(digest, now: now, slidingTTL: slidingTTL) }
    }

    var sessionCount: Int { withState { $0.sessionCount } }
    var count: Int { withState { $0.count } }

    /// Removes tokens expired at `now`; returns how many.
    func removeExpired(now: Int64) -> Int { withState { $0.removeExpired(now: now) } }

    /// Takes the uses (last use, renewed expiry) recorded since the last call.
    func takeDirty() -> [(id: Int64, lastUsed: Int64?, expiresAt: Int64)] { withState { $0.takeDirty() } }
}
