/// When failed logins lock an account, after pam_faillock: `deny` failures
/// within `failInterval` of the first failure of the window lock the account
/// for `unlockTime` (nil: until an admin unlocks it).  Times are milliseconds.
///
/// The policy is a pure value: it computes the next lockout state of a user
/// from the current one; `AccountService` stores the result.
public struct LockoutPolicy: Hashable, Sendable {
    /// Failures that lock the account; 0 never locks (failures are still counted).
    public var deny: Int
    /// Failures count towards `deny` only within this many milliseconds of
    /// the first failure of the current window.
    public var failIntervalMillis: Int64
    /// How long a lock lasts, in milliseconds; nil: until an admin unlocks.
    public var unlockTimeMillis: Int64?
    /// Users with the superuser flag are never locked (their failures are still counted).
    public var exemptSuperuser: Bool

    public init(
        deny: Int = 5, failIntervalMillis: Int64 = 15 * 60 * 1000, unlockTimeMillis: Int64? = 10 * 60 * 1000,
        exemptSuperuser: Bool = true
    ) {
        self.deny = max(0, deny)
        self.failIntervalMillis = max(0, failIntervalMillis)
        self.unlockTimeMillis = unlockTimeMillis.map { max(0, $0) }
        self.exemptSuperuser = exemptSuperuser
    }

    /// The policy of a configuration (`lockout_deny`, `lockout_fail_interval`,
    /// `lockout_unlock_time` where 0 means until an admin unlocks, `lockout_exempt_superuser`).
    public init(config: VouchConfig) {
        self.init(
            deny: config.lockoutDeny, failIntervalMillis: Self.millis(config.lockoutFailInterval),
            unlockTimeMillis: config.lockoutUnlockTime == 0 ? nil : Self.millis(config.lockoutUnlockTime),
            exemptSuperuser: config.lockoutExemptSuperuser)
    }

    /// Never locks.
    public static let disabled = LockoutPolicy(deny: 0)

    /// Whether `user` is locked at `now`.
    public func isLocked(_ user: User, now: Int64) -> Bool {
        guard let until = user.lockedUntil, until > now else { return false }
        return !isExempt(user)
    }

    public func isExempt(_ user: User) -> Bool {
        exemptSuperuser && user.isSuperuser
    }

    /// The failures of `user` that still count at `now` (0 once the window
    /// or an earlier lock has run out).
    public func liveFailures(of user: User, now: Int64) -> Int {
        if let until = user.lockedUntil { return until > now ? Int(user.failedLogins) : 0 }
        guard let since = user.failuresSince, since <= now, now - since <= failIntervalMillis else { return 0 }
        return Int(user.failedLogins)
    }

    /// `user` after one more failed login at `now`: the failure is counted in
    /// the current window (a new window when the last one expired or an
    /// earlier lock ran out), and the account is locked when the count
    /// reaches `deny`.
    public func recordingFailure(of user: User, now: Int64) -> User {
        var next = user
        if liveFailures(of: user, now: now) == 0 {
            next.failedLogins = 0
            next.failuresSince = now
            next.lockedUntil = nil
        }
        next.failedLogins = next.failedLogins == .max ? .max : next.failedLogins + 1
        if deny > 0, next.failedLogins >= deny, !isExempt(user), next.lockedUntil == nil {
            if let unlock = unlockTimeMillis {
                let (sum, overflow) = now.addingReportingOverflow(unlock)
                next.lockedUntil = overflow ? Int64.max : sum
            } else {
                next.lockedUntil = Int64.max
            }
        }
        return next
    }

    /// Whether `user` carries any lockout state (failures, a window or a lock).
    public static func hasState(_ user: User) -> Bool {
        user.failedLogins != 0 || user.lockedUntil != nil || user.failuresSince != nil
    }

    /// `user` with no failures and no lock.
    public static func cleared(_ user: User) -> User {
        var next = user
        next.failedLogins = 0
        next.failuresSince = nil
        next.lockedUntil = nil
        return next
    }

    static func millis(_ seconds: Int64) -> Int64 {
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        return overflow ? Int64.max : product
    }
}

/// What `account_status` answers: whether an account may log in now.
public enum AccountState: UInt8, Sendable {
    case active = 0
    case inactive = 1
    case locked = 2
}
