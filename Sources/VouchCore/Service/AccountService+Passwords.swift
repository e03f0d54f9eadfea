import Logging
import VouchSecrets

extension AccountService {
    /// Checks a username and password.  A wrong password, an unknown user
    /// and an over-long or non-UTF-8 input all throw `.invalidCredentials`
    /// after the same hashing work; the right password of an inactive user
    /// throws `.inactive`.  On success records the login and, when the
    /// stored hash is outdated, replaces it in the same write.
    /// `onLockout` is called (before the throw) when this login's failure locked the account.
    public func login(username: String, password: SecretBytes, onLockout: (User) -> Void = { _ in })
        throws(AccountError) -> User
    {
        try login(username: username, password: password, session: nil, onLockout: onLockout).user
    }

    /// A login that, with `session`, also stores the session token it makes
    /// for the user's id, in the same transaction as the login: both are
    /// written or neither (and then the answer is `storage unavailable`).
    public func login(
        username: String, password: SecretBytes,
        session: ((Int64) throws(AccountError) -> TokenRecord)?, onLockout: (User) -> Void = { _ in }
    ) throws(AccountError) -> (user: User, session: TokenRecord?) {
        let user = try authenticate(username: username, password: password, onLockout: onLockout)
        var rehash: String?
        if user.needsRehash {
            do {
                rehash = try hasher.hash(password)
            } catch {
                logger.warning("rehash on login failed", metadata: ["id": "\(user.user.id)"])
            }
        }
        let now = clock.nowMillis()
        // Made before the write lock (random bytes and a digest): only the write waits behind it.
        let pending = try session?(user.user.id)
        let (updated, stored) = try writeLock.withLock { _ throws(AccountError) -> (User, TokenRecord?) in
            var current = try stillValid(user.user)
            let hadFailures = LockoutPolicy.hasState(current)
            current.lastLogin = now
            if let rehash {
                current.passwordHash = rehash
                current.updatedAt = now
            }
            if hadFailures {
                // A successful login clears the failure count (one write).
                current = LockoutPolicy.cleared(current)
            }
            let stored: TokenRecord?
            do throws(AccountError) {
                stored = try store.recordLogin(
                    current, wholeRow: hadFailures, rehashed: rehash != nil, session: pending)
            } catch let error where error.code == .storageUnavailable && pending == nil {
                // The password was right: a database that cannot be written
                // (locked, full, read-only) must not lock everyone out.  The
                // login is not recorded and the old hash is kept; its failures
                // are cleared in memory, as they were counted there.  A session
                // cannot be handed out unstored: then the error stands.
                logger.warning("login not recorded: the database is unavailable", metadata: ["id": "\(current.id)"])
                let unchanged = try stillValid(user.user)
                guard hadFailures else { return (unchanged, nil) }
                cache.upsert(LockoutPolicy.cleared(unchanged))
                return (LockoutPolicy.cleared(unchanged), nil)
            }
            cache.upsert(current)
            return (current, stored)
        }
        logger.debug(
            "login",
            metadata: [
                "user": "\(updated.username)", "id": "\(updated.id)",
                "rehashed": "\(rehash != nil)",
            ])
        return (updated, stored)
    }

    /// Changes a user's own password: the old one is checked like `login`
    /// (same errors), then the new one against the policy.
    public func changePassword(
        username: String, old: SecretBytes, new: SecretBytes, onLockout: (User) -> Void = { _ in }
    ) throws(AccountError) -> User {
        let user = try authenticate(username: username, password: old, onLockout: onLockout).user
        return try replacePassword(of: user, with: new, requireUnchanged: true)
    }

    /// Sets a user's password (admin): policy, hash, write.
    public func setPassword(_ ref: UserRef, password: SecretBytes) throws(AccountError) -> User {
        try replacePassword(of: try user(ref), with: password, requireUnchanged: false)
    }

    // MARK: - Helpers

    /// The user and whether the stored hash should be replaced, or throws
    /// `.invalidCredentials` / `.inactive`.
    func authenticate(username: String, password: SecretBytes, onLockout: (User) -> Void) throws(AccountError) -> (
        user: User, needsRehash: Bool
    ) {
        guard username.unicodeScalars.count <= IdentityRules.maxUsernameLength,
            password.count <= Self.maxPasswordBytes,
            let length = password.unicodeScalarCount, length <= PasswordPolicy.maxLength,
            let user = cache.user(named: username)
        else {
            hasher.dummyVerify(password)
            logger.debug("login failed: unknown user or over-long input")
            throw AccountError.invalidCredentials()
        }
        guard beginAttempt(user) else {
            // The same work as a verification, so timing does not tell locked from wrong or unknown.
            hasher.dummyVerify(password)
            logger.debug("login refused: locked", metadata: ["id": "\(user.id)"])
            throw AccountError(.locked)
        }
        defer { endAttempt(user) }
        switch hasher.verify(password, against: user.passwordHash) {
        case .mismatch:
            logger.debug("login failed: wrong password", metadata: ["id": "\(user.id)"])
            if let locked = recordFailure(of: user) { onLockout(locked) }
            throw AccountError.invalidCredentials()
        case .match(let needsRehash):
            guard user.isActive else {
                logger.debug("login refused: inactive", metadata: ["id": "\(user.id)"])
                throw AccountError(.inactive)
            }
            let outdated =
                needsRehash
            return (user, outdated)
        }
    }

    /// Inside the write lock: the current record of a user verified outside
    /// it, refused when it was deleted, deactivated or had its password
    /// changed meanwhile.
    func stillValid(_ verified: User) throws(AccountError) -> User {
        guard let current = cache.user(id: verified.id),
            current.passwordHash == verified.passwordHash
        else { throw AccountError.invalidCredentials() }
        guard current.isActive else { throw AccountError(.inactive) }
        return current
    }

    func replacePassword(of user: User, with password: SecretBytes, requireUnchanged: Bool)
        throws(AccountError) -> User
    {
        if let problem = policy.problem(with: password, username: user.username, email: user.email) {
            throw AccountError.passwordRejected(problem)
        }
        let hash = try hasher.hash(password)
        let now = clock.nowMillis()
        let updated = try writeLock.withLock { _ throws(AccountError) -> User in
            var current: User
            if requireUnchanged {
                current = try stillValid(user)
            } else {
                guard let found = cache.user(id: user.id) else {
                    throw AccountError.notFound(.id(user.id))
                }
                current = found
            }
            current.passwordHash = hash
            current.updatedAt = now
            try store.update(current)
            cache.upsert(current)
            return current
        }
        logger.debug(
            "password changed", metadata: ["user": "\(updated.username)", "id": "\(updated.id)"])
        return updated
    }
}
