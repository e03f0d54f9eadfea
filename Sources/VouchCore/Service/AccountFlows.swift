import COpenSSL
import Logging
import VouchSecrets

/// The account operations as callers see them: `AccountService` for users,
/// `TokenService` for tokens, and `EventRecorder` for the audit trail and
/// hooks, composed with the rules that span them (FastAPI Users'
/// BaseUserManager, done the way a daemon should):
///
/// - a password change or reset, deactivation and deletion revoke the user's
///   sessions (for a password change: `revokeSessionsOnPasswordChange`);
/// - any password change voids the user's outstanding reset tokens, and an
///   email change voids outstanding verification tokens;
/// - forgot-password answers the same whether or not the account exists.
///
/// Blocking and thread-safe, like `AccountService`; `verifyToken` is memory only.
public final class AccountFlows: Sendable {
    public let accounts: AccountService
    public let tokens: TokenService
    public let events: EventRecorder
    let clock: any VouchClock
    let revokeSessionsOnPasswordChange: Bool
    /// Whether a failed login for an unknown name records the name as typed
    /// (`log_unknown_usernames`); by default it is recorded as `UNKNOWN`.
    let logUnknownUsernames: Bool
    let logger: Logger
    /// Linux logins and password aging; nil: passwords never expire.
    public let logins: LoginService?

    public init(
        accounts: AccountService, tokens: TokenService, events: EventRecorder, clock: any VouchClock = SystemClock(),
        revokeSessionsOnPasswordChange: Bool = true, logUnknownUsernames: Bool = false, logger: Logger,
        logins: LoginService? = nil
    ) {
        self.logins = logins
        self.accounts = accounts
        self.tokens = tokens
        self.events = events
        self.clock = clock
        self.revokeSessionsOnPasswordChange = revokeSessionsOnPasswordChange
        self.logUnknownUsernames = logUnknownUsernames
        self.logger = logger
    }

    /// What a failed login for a name with no account records instead of the name.
    public static let unknownName = "UNKNOWN"

    // MARK: - Users

    public func createUser(
        username: String, email: String?, password: SecretBytes, flags: UserFlags, caller: Caller
    ) throws(AccountError) -> User {
        let user = try accounts.createUser(username: username, email: email, password: password, flags: flags)
        record(.register, user, caller)
        return user
    }

    /// Checks a password; with `wantToken`, also issues a session token.
    public func login(username: String, password: SecretBytes, wantToken: Bool, caller: Caller)
        throws(AccountError) -> (user: User, session: (token: SecretBytes, expiresAt: Int64)?)
    {
        let user: User
        let name = String(username.prefix(IdentityRules.maxUsernameLength))
        var lockedNow: User?
        var session: (token: SecretBytes, expiresAt: Int64)?
        // An expired password gets no session (checked again once the password is verified).
        let expired = logins.map { $0.passwordAge(named: username) != .current } ?? false
        do {
            // The session token is written in the login's own transaction.
            var token: SecretBytes?
            let tokens = self.tokens
            let made = try accounts.login(
                username: username, password: password,
                session: wantToken && !expired
                    ? { id throws(AccountError) in
                        let prepared = try tokens.prepare(.session, userId: id, label: caller.service)
                        token = prepared.token
                        return prepared.record
                    } : nil,
                onLockout: { lockedNow = $0 })
            user = made.user
            if let record = made.session, let token {
                tokens.admit(record)
                session = (token, record.expiresAt)
            }
        } catch {
            // An unknown name may be a password typed as the username.
            let known = accounts.user(named: username)
            events.record(
                AccountEvent(
                    kind: .failedLogin, time: clock.nowMillis(), user: known,
                    username: known != nil || logUnknownUsernames ? name : Self.unknownName, caller: caller,
                    reason: error.code.rawValue))
            if let lockedNow { recordLockout(lockedNow, caller) }
            throw error
        }
        // The right password, but it must be changed first (change_password): no session.
        if expired || logins?.passwordAge(of: user) ?? .current != .current {
            // Recorded like any refused login, so hooks and `vouchctl events` see it.
            let error = AccountError(.passwordExpired)
            events.record(
                AccountEvent(
                    kind: .failedLogin, time: clock.nowMillis(), user: user, username: user.username, caller: caller,
                    reason: error.code.rawValue))
            throw error
        }
        record(.login, user, caller)
        return (user, session)
    }

    public func changePassword(username: String, old: SecretBytes, new: SecretBytes, caller: Caller)
        throws(AccountError) -> User
    {
        var lockedNow: User?
        let user: User
        do {
            user = try accounts.changePassword(username: username, old: old, new: new) { lockedNow = $0 }
        } catch {
            if let lockedNow { recordLockout(lockedNow, caller) }
            throw error
        }
        try passwordChanged(user, caller)
        return user
    }

    /// A failed password check locked the account (pam_faillock's "account locked").
    private func recordLockout(_ user: User, _ caller: Caller) {
        events.record(
            AccountEvent(
                kind: .lockout, time: clock.nowMillis(), user: user, caller: caller,
                reason: user.lockedUntil == Int64.max ? "until an admin unlocks" : nil))
    }

    public func setPassword(_ ref: UserRef, password: SecretBytes, caller: Caller) throws(AccountError) -> User {
        let user = try accounts.setPassword(ref, password: password)
        try passwordChanged(user, caller)
        return user
    }

    private func passwordChanged(_ user: User, _ caller: Caller) throws(AccountError) {
        try tokens.revokeAll(userId: user.id, purpose: .resetPassword)
        if revokeSessionsOnPasswordChange { try tokens.revokeAll(userId: user.id, purpose: .session) }
        recordPasswordAge(user)
        record(.passwordChanged, user, caller)
    }

    /// Notes the change for password aging, after the tokens are revoked: the
    /// new password is in force either way, and a failure here must not leave
    /// an old session or reset token alive behind an error.
    private func recordPasswordAge(_ user: User) {
        do {
            try logins?.passwordChanged(userId: user.id)
        } catch {
            logger.error(
                "password change not recorded for password aging",
                metadata: ["user_id": "\(user.id)", "error": "\(error.code)"])
        }
    }

    public func updateUser(
        _ ref: UserRef, email: String??, setFlags: UserFlags, flagValues: UserFlags, caller: Caller
    ) throws(AccountError) -> (user: User, changed: [String]) {
        let result = try accounts.updateUser(ref, email: email, setFlags: setFlags, flagValues: flagValues)
        guard !result.changed.isEmpty else { return result }
        // Deactivation ends sessions only: a verify token still works for an
        // inactive user, and a reset token is refused with "inactive".
        if result.changed.contains("active"), !result.user.isActive {
            try tokens.revokeAll(userId: result.user.id, purpose: .session)
        }
        if result.changed.contains("email") {
            try tokens.revokeAll(userId: result.user.id, purpose: .verifyEmail)
        }
        events.record(
            AccountEvent(
                kind: .update, time: clock.nowMillis(), user: result.user, caller: caller, changed: result.changed))
        return result
    }

    /// Deletes a user unless a `before_delete` hook vetoes (status vetoed, with the hook's reason).
    public func deleteUser(_ ref: UserRef, caller: Caller) throws(AccountError) -> User {
        let target = try accounts.user(ref)
        if let veto = events.vetoBeforeDelete(
            AccountEvent(kind: .beforeDelete, time: clock.nowMillis(), user: target, caller: caller))
        {
            logger.notice("delete vetoed by a hook", metadata: ["user": "\(target.username)", "reason": "\(veto)"])
            throw AccountError(.vetoed, veto)
        }
        let user = try accounts.deleteUser(.id(target.id))
        tokens.forget(userId: user.id)
        logins?.forget(userId: user.id)
        record(.delete, user, caller)
        return user
    }

    // MARK: - Sessions

    /// The user behind a live session token.  Memory only: "invalid token"
    /// for an unknown, revoked or expired token, or a user now inactive or deleted.
    public func verifyToken(_ token: SecretBytes) throws(AccountError) -> (user: User, expiresAt: Int64) {
        guard let session = tokens.verifySession(token), let user = accounts.user(id: session.userId),
            user.isActive
        else { throw AccountError(.invalidToken) }
        return (user, session.expiresAt)
    }

    /// Logout: anyone holding a session token may revoke it.
    public func revokeToken(_ token: SecretBytes) throws(AccountError) {
        guard try tokens.revoke(token) else { throw AccountError(.invalidToken) }
    }

    /// Log a user out everywhere.
    public func revokeTokens(_ ref: UserRef) throws(AccountError) -> Int {
        try tokens.revokeAll(userId: try accounts.user(ref).id, purpose: .session)
    }

    /// A session token for a user without a password (service accounts).
    public func issueToken(_ ref: UserRef, label: String, ttlSeconds: Int64, caller: Caller) throws(AccountError)
        -> (token: SecretBytes, expiresAt: Int64)
    {
        let user = try accounts.user(ref)
        guard user.isActive else { throw AccountError(.inactive) }
        guard ttlSeconds >= 0, ttlSeconds <= TokenService.maxTTL / 1000 else {
            throw AccountError.invalidInput("The token lifetime must be between 1 second and 366 days.")
        }
        let issued = try tokens.issue(
            .session, userId: user.id, label: label, ttl: ttlSeconds == 0 ? nil : ttlSeconds * 1000)
        logger.info(
            "token issued",
            metadata: [
                "event": "token_issued", "user": "\(user.username)", "label": "\(label)", "peer_uid": "\(caller.uid)",
            ])
        return (issued.token, issued.record.expiresAt)
    }

    public func listTokens(_ ref: UserRef) throws(AccountError) -> [TokenRecord] {
        tokens.sessions(userId: try accounts.user(ref).id)
    }

    // MARK: - Forgot and reset password

    /// Creates a reset token for an active user named by username or email and
    /// hands it to the `forgot_password` hook; the new token replaces any the
    /// user had outstanding.  Nothing happens when `admit` refuses the
    /// account (too many requests for it).  Never says whether the account
    /// exists: it returns nothing and throws nothing.
    public func forgotPassword(
        _ usernameOrEmail: String, caller: Caller, admit: (_ userId: Int64) -> Bool = { _ in true }
    ) {
        guard let user = accounts.user(named: usernameOrEmail) ?? accounts.user(email: usernameOrEmail),
            user.isActive
        else {
            logger.debug("forgot password: no active user", metadata: ["peer_uid": "\(caller.uid)"])
            return
        }
        guard admit(user.id) else {
            logger.debug(
                "forgot password: too many requests for this account",
                metadata: ["user_id": "\(user.id)", "peer_uid": "\(caller.uid)"])
            return
        }
        do {
            try tokens.revokeAll(userId: user.id, purpose: .resetPassword)
            let issued = try tokens.issue(
                .resetPassword, userId: user.id, fingerprint: Self.fingerprint(user.passwordHash))
            events.record(
                AccountEvent(
                    kind: .forgotPassword, time: clock.nowMillis(), user: user, caller: caller,
                    token: String(decoding: issued.token.withUnsafeBytes { Array($0) }, as: UTF8.self),
                    tokenExpiresAt: issued.record.expiresAt))
        } catch {
            logger.warning("forgot password: could not issue a token", metadata: ["error": "\(error)"])
        }
    }

    public func resetPassword(token: SecretBytes, password: SecretBytes, caller: Caller) throws(AccountError) {
        guard let record = tokens.peek(token, purpose: .resetPassword),
            let user = accounts.user(id: record.userId)
        else { throw AccountError(.invalidToken) }
        // A password change since the token was issued voids it.
        guard record.fingerprint == Self.fingerprint(user.passwordHash) else {
            _ = try? tokens.consume(token, purpose: .resetPassword)
            throw AccountError(.invalidToken)
        }
        guard user.isActive else { throw AccountError(.inactive) }
        if let problem = accounts.policy.problem(with: password, username: user.username, email: user.email) {
            throw AccountError.passwordRejected(problem)
        }
        _ = try tokens.consume(token, purpose: .resetPassword)
        let updated = try accounts.setPassword(.id(user.id), password: password)
        try tokens.revokeAll(userId: user.id, purpose: .resetPassword)
        try tokens.revokeAll(userId: user.id, purpose: .session)
        recordPasswordAge(updated)
        self.record(.resetPassword, updated, caller)
    }

    // MARK: - Verify email

    /// Sends a verification token (replacing the user's outstanding one) to
    /// the `request_verify` hook; "rate limited" when `admit` refuses the account.
    public func requestVerify(
        _ ref: UserRef, caller: Caller, admit: (_ userId: Int64) -> Bool = { _ in true }
    ) throws(AccountError) {
        let user = try accounts.user(ref)
        guard user.isActive else { throw AccountError(.inactive) }
        guard !user.isVerified else { throw AccountError(.alreadyVerified) }
        guard let email = user.email else { throw AccountError.invalidInput("The user has no email address") }
        guard admit(user.id) else {
            throw AccountError(.rateLimited, "Too many verification requests for this account; try again later")
        }
        try tokens.revokeAll(userId: user.id, purpose: .verifyEmail)
        let issued = try tokens.issue(
            .verifyEmail, userId: user.id, fingerprint: Self.fingerprint(IdentityRules.canonicalKey(email)))
        events.record(
            AccountEvent(
                kind: .requestVerify, time: clock.nowMillis(), user: user, caller: caller,
                token: String(decoding: issued.token.withUnsafeBytes { Array($0) }, as: UTF8.self),
                tokenExpiresAt: issued.record.expiresAt))
    }

    /// Marks the user verified.  An inactive user can be verified and stays inactive.
    public func verifyEmail(token: SecretBytes, caller: Caller) throws(AccountError) -> User {
        guard let record = tokens.peek(token, purpose: .verifyEmail), let user = accounts.user(id: record.userId)
        else { throw AccountError(.invalidToken) }
        guard let email = user.email, record.fingerprint == Self.fingerprint(IdentityRules.canonicalKey(email)) else {
            _ = try? tokens.consume(token, purpose: .verifyEmail)
            throw AccountError(.invalidToken)
        }
        guard !user.isVerified else { throw AccountError(.alreadyVerified) }
        _ = try tokens.consume(token, purpose: .verifyEmail)
        let result = try accounts.updateUser(.id(user.id), email: nil, setFlags: .verified, flagValues: .verified)
        self.record(.verify, result.user, caller)
        return result.user
    }

    // MARK: - Events

    public func listEvents(_ ref: UserRef?, since: Int64, limit: Int) throws(AccountError) -> [StoredEvent] {
        guard (1...10_000).contains(limit) else {
            throw AccountError.invalidInput("The limit must be between 1 and 10000.")
        }
        let userId = try ref.map { r throws(AccountError) in try accounts.user(r).id }
        return try events.listEvents(userId: userId, since: since, limit: limit)
    }

    // MARK: - Helpers

    private func record(_ kind: AccountEventKind, _ user: User, _ caller: Caller) {
        events.record(AccountEvent(kind: kind, time: clock.nowMillis(), user: user, caller: caller))
    }

    /// SHA-256 of a value a token is bound to.
    static func fingerprint(_ value: String) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var v = value
        v.withUTF8 { vouch_sha256($0.baseAddress, $0.count, &out) }
        return out
    }
}
