import VouchProtocol

/// Lockout calls: what PAM's account phase asks, and an admin's unlock.
extension VouchClient {
    /// Whether `username` may log in now: active, inactive or locked.  Throws
    /// `.refused(.notFound)` for an unknown user.
    public func accountStatus(username: String) async throws(VouchClientError) -> WireAccountState {
        guard case .accountState(let state) = try await send(.accountStatus(username: username)) else {
            throw unexpected()
        }
        return state
    }

    /// Clears a user's failed logins and lock (admin); returns the user.
    public func unlockUser(_ user: UserSelector) async throws(VouchClientError) -> UserRecord {
        guard case .user(let u) = try await send(.unlockUser(user)) else { throw unexpected() }
        return u
    }
}
