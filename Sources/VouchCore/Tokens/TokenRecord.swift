/// A stored token: never the token itself, only its digest.  Times are Unix ms.
public struct TokenRecord: Hashable, Sendable {
    public var id: Int64
    public var digest: TokenDigest
    public var purpose: TokenPurpose
    public var userId: Int64
    public var label: String
    /// For reset tokens, a digest of the password hash when issued (a later
    /// password change voids the token); for verify tokens, of the email.
    public var fingerprint: [UInt8]?
    public var createdAt: Int64
    public var expiresAt: Int64
    public var lastUsed: Int64?

    public init(
        id: Int64, digest: TokenDigest, purpose: TokenPurpose, userId: Int64, label: String, fingerprint: [UInt8]?,
        createdAt: Int64, expiresAt: Int64, lastUsed: Int64? = nil
    ) {
        self.id = id
        self.digest = digest
        self.purpose = purpose
        self.userId = userId
        self.label = label
        self.fingerprint = fingerprint
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastUsed = lastUsed
    }
}

/// Durable storage of tokens (digests only).
public protocol TokenStore: Sendable {
    /// Every token not yet expired at `now`, row by row: first `reserve` gets an
    /// upper bound of how many there are, then `each` gets every one.
    func loadTokens(now: Int64, reserve: (Int) -> Void, each: (TokenRecord) -> Void) throws(AccountError)
    /// Stores a token (its `id` is ignored) and returns it with its id.
    func insertToken(_ record: TokenRecord) throws(AccountError) -> TokenRecord
    /// Deletes one token; false when it was not there.
    @discardableResult func deleteToken(id: Int64) throws(AccountError) -> Bool
    /// Deletes a user's tokens of `purpose` (all purposes when nil); returns how many.
    @discardableResult func deleteTokens(userId: Int64, purpose: TokenPurpose?) throws(AccountError) -> Int
    /// Deletes tokens expired at `now`; returns how many.
    func deleteExpiredTokens(now: Int64) throws(AccountError) -> Int
    /// Records last use and (sliding sessions) new expiries.
    func updateTokenUsage(_ usage: [(id: Int64, lastUsed: Int64?, expiresAt: Int64)]) throws(AccountError)
}
