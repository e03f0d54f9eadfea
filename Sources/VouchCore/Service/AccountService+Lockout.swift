import Logging

/// Per-user lockout after failed logins (like pam_faillock).  The state lives
/// in the user's row (`failed_logins`, `failures_since`, `locked_until`), so it
/// survives a restart; it is written before the failure is answered, and
/// kept in memory when the database cannot be written.
extension AccountService {
    /// The lockout policy in force.
    public var lockout: LockoutPolicy {
        lockoutPolicy.withLock { $0 }
    }

    /// Replaces the lockout policy (on reload); existing locks keep their end time.
    public func setLockoutPolicy(_ policy: LockoutPolicy) {
        lockoutPolicy.withLock { $0 = policy }
    }

    /// Whether a username's account may log in now: active, inactive
    /// (checked first: an admin's decision outlasts a lock) or locked.
    /// Memory only, no hashing.  Throws `.notFound`.
    public func accountState(username: String) throws(AccountError) -> AccountState {
        guard username.unicodeScalars.count <= IdentityRules.maxUsernameLength,
            let user = cache.user(named: username)
        else { throw AccountError.notFound(.name(username)) }
        if !user.isActive { return .inactive }
        return lockout.isLocked(user, now: clock.nowMillis()) ? .locked : .active
    }

    /// Clears a user's failures and lock (admin).  No write when there is nothing to clear.
    public func unlockUser(_ ref: UserRef) throws(AccountError) -> User {
        try writeLock.withLock { _ throws(AccountError) -> User in
            let old = try user(ref)
            guard LockoutPolicy.hasState(old) else { return old }
            let new = LockoutPolicy.cleared(old)
            try store.update(new)
            cache.upsert(new)
            logger.info(
                "user unlocked",
                metadata: ["user": "\(new.username)", "id": "\(new.id)", "failures": "\(old.failedLogins)"])
            return new
        }
    }

    /// Whether a password check of `user` may start: false when it is locked,
    /// or when its failures plus the checks already in progress reach the
    /// limit (so pipelined guesses cannot outrun the lockout).  A true answer
    /// must be balanced by `endAttempt` after any failure is recorded.
    func beginAttempt(_ user: User) -> Bool {
        let policy = lockout
        let now = clock.nowMillis()
        return attemptsInProgress.withLock { attempts in
            let current = cache.user(id: user.id) ?? user
            if policy.isLocked(current, now: now) { return false }
            if policy.deny > 0, !policy.isExempt(current) {
                let counted = policy.liveFailures(of: current, now: now) + (attempts[user.id] ?? 0)
                if counted >= policy.deny { return false }
            }
            attempts[user.id, default: 0] += 1
            return true
        }
    }

    func endAttempt(_ user: User) {
        attemptsInProgress.withLock { attempts in
            if let n = attempts[user.id], n > 1 {
                attempts[user.id] = n - 1
            } else {
                attempts[user.id] = nil
            }
        }
    }

    /// Counts a failed login of `user` (a wrong password) and locks it when
    /// the policy says so.  Written through before the failure is answered.
    /// The count always lands in memory: a database that cannot be written
    /// (full, read-only, locked) must not switch the lockout off, so a storage
    /// failure is logged and the row is written with the user's next write.
    /// Returns the user when this failure locked the account.
    @discardableResult
    func recordFailure(of user: User) -> User? {
        let now = clock.nowMillis()
        let policy = lockout
        return writeLock.withLock { _ -> User? in
            // The record may have changed since it was read (another failure, an unlock).
            guard let current = cache.user(id: user.id) else { return nil }
            let next = policy.recordingFailure(of: current, now: now)
            do throws(AccountError) {
                try store.update(next)
            } catch {
                logger.error(
                    "failed login counted in memory only: cannot write it to the database",
                    metadata: ["id": "\(user.id)", "failures": "\(next.failedLogins)", "error": "\(error)"])
            }
            cache.upsert(next)
            guard next.lockedUntil != nil, current.lockedUntil != next.lockedUntil else { return nil }
            logger.notice(
                "account locked after failed logins",
                metadata: [
                    "event": "account_locked", "user": "\(next.username)", "id": "\(next.id)",
                    "failures": "\(next.failedLogins)",
                    "until": "\(next.lockedUntil == Int64.max ? "admin unlock" : "\(next.lockedUntil!)")",
                ])
            return next
        }
    }
}
