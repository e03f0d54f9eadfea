import VouchProtocol
import VouchSecrets

/// Session tokens, account flows and events.
extension VouchClient {
    /// The user behind a live session token, and when the token expires.
    public func verifyToken(_ token: SecretBytes) async throws(VouchClientError) -> (user: UserRecord, expiresAt: Int64)
    {
        guard case .tokenOwner(let user, let expiresAt) = try await send(.verifyToken(token)) else {
            throw unexpected()
        }
        return (user, expiresAt)
    }

    /// Logout: revokes one session token.
    public func revokeToken(_ token: SecretBytes) async throws(VouchClientError) {
        _ = try await send(.revokeToken(token))
    }

    /// Logs a user out everywhere; returns how many sessions were revoked.
    public func revokeTokens(_ user: UserSelector) async throws(VouchClientError) -> UInt32 {
        guard case .count(let n) = try await send(.revokeTokens(user)) else { throw unexpected() }
        return n
    }

    /// Issues a session token without a password (admin); `ttlSeconds` 0 means the configured lifetime.
    public func issueToken(_ user: UserSelector, label: String = "", ttlSeconds: Int64 = 0)
        async throws(VouchClientError) -> IssuedToken
    {
        guard case .issuedToken(let t) = try await send(.issueToken(user: user, label: label, ttlSeconds: ttlSeconds))
        else { throw unexpected() }
        return t
    }

    /// A user's live sessions (never the tokens).
    public func tokens(_ user: UserSelector) async throws(VouchClientError) -> [TokenInfo] {
        guard case .tokens(let list) = try await send(.listTokens(user)) else { throw unexpected() }
        return list
    }

    /// Starts a password reset; the answer is the same whether or not the account exists.
    public func forgotPassword(_ usernameOrEmail: String) async throws(VouchClientError) {
        _ = try await send(.forgotPassword(usernameOrEmail: usernameOrEmail))
    }

    public func resetPassword(token: SecretBytes, password: SecretBytes) async throws(VouchClientError) {
        _ = try await send(.resetPassword(token: token, password: password))
    }

    public func requestVerify(_ user: UserSelector) async throws(VouchClientError) {
        _ = try await send(.requestVerify(user))
    }

    public func verifyEmail(token: SecretBytes) async throws(VouchClientError) -> UserRecord {
        guard case .user(let u) = try await send(.verifyEmail(token: token)) else { throw unexpected() }
        return u
    }

    public func events(user: UserSelector? = nil, sinceMillis: Int64 = 0, limit: UInt32 = 1000)
        async throws(VouchClientError) -> [EventRecord]
    {
        guard case .events(let list) = try await send(.listEvents(user: user, sinceMillis: sinceMillis, limit: limit))
        else { throw unexpected() }
        return list
    }
}
