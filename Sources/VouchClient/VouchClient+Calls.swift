import VouchProtocol
import VouchSecrets

/// Typed calls, one per operation.
extension VouchClient {
    public func hello(clientName: String = "VouchClient") async throws(VouchClientError) -> ServerHello {
        guard case .hello(let h) = try await send(.hello(clientName: clientName)) else { throw unexpected() }
        return h
    }

    public func ping() async throws(VouchClientError) {
        _ = try await send(.ping)
    }

    public func status() async throws(VouchClientError) -> ServerStatus {
        guard case .status(let s) = try await send(.status) else { throw unexpected() }
        return s
    }

    public func createUser(
        username: String, email: String? = nil, password: SecretBytes, flags: AccountFlags = .active
    ) async throws(VouchClientError) -> UserRecord {
        let reply = try await send(.createUser(username: username, email: email, password: password, flags: flags))
        guard case .user(let u) = reply else { throw unexpected() }
        return u
    }

    /// Checks a password; returns the user, and a session token if asked for.
    public func login(
        username: String, password: SecretBytes, wantToken: Bool = false, context: LoginContext = LoginContext()
    ) async throws(VouchClientError) -> (user: UserRecord, token: IssuedToken?) {
        let reply = try await send(
            .login(username: username, password: password, wantToken: wantToken, context: context))
        guard case .login(let user, let token) = reply else { throw unexpected() }
        return (user, token)
    }

    public func changePassword(username: String, old: SecretBytes, new: SecretBytes) async throws(VouchClientError) {
        _ = try await send(.changePassword(username: username, old: old, new: new))
    }

    public func setPassword(_ user: UserSelector, password: SecretBytes) async throws(VouchClientError) {
        _ = try await send(.setPassword(user: user, password: password))
    }

    public func user(_ user: UserSelector) async throws(VouchClientError) -> UserRecord {
        guard case .user(let u) = try await send(.getUser(user)) else { throw unexpected() }
        return u
    }

    public func users(
        limit: UInt32 = 20, page: UInt32 = 1, order: UserSortOrder = .username, descending: Bool = false
    ) async throws(VouchClientError) -> (total: UInt32, users: [UserRecord]) {
        let reply = try await send(.listUsers(limit: limit, page: page, order: order, descending: descending))
        guard case .users(let total, let users) = reply else { throw unexpected() }
        return (total, users)
    }

    /// `email`: nil leaves it, `.some(nil)` clears it.  `set` names the flags to
    /// change and `to` their new values.
    public func updateUser(
        _ user: UserSelector, email: String?? = nil, set mask: AccountFlags = [], to values: AccountFlags = []
    ) async throws(VouchClientError) -> (user: UserRecord, changed: [String]) {
        let reply = try await send(.updateUser(user: user, email: email, flagMask: mask, flagValues: values))
        guard case .updated(let u, let changed) = reply else { throw unexpected() }
        return (u, changed)
    }

    public func deleteUser(_ user: UserSelector) async throws(VouchClientError) {
        _ = try await send(.deleteUser(user))
    }

    func unexpected() -> VouchClientError {
        VouchClientError(.protocolViolation, "the daemon answered with an unexpected reply")
    }
}
