/// What vouch keeps about a user beyond the `users` row: the Linux login
/// (uid, real name, home, shell, SSH keys) and password aging.  A user
/// without a profile is not a login and has the default aging.
public struct LoginProfile: Hashable, Sendable {
    public var userId: Int64
    /// Whether the user is a Linux login (served to NSS and sshd).
    public var login: Bool = false
    /// Given once and kept when `login` is turned off, so turning it on
    /// again gives the same uid; never reused after the user is deleted.
    public var uid: UInt32?
    public var realName: String = ""
    /// nil: the `login_home` template.
    public var home: String?
    /// nil: `login_shell`.
    public var shell: String?
    /// Unix milliseconds of the last password change; nil: not recorded
    /// (the account's creation counts).
    public var passwordChangedAt: Int64?
    /// Seconds; nil: `password_max_age`; 0: never expires.
    public var passwordMaxAge: Int64?
    /// Set by `vouchctl user expire` (like `chage -d 0`); cleared by a password change.
    public var mustChangePassword: Bool = false
    /// OpenSSH public keys, one `authorized_keys` line each.
    public var sshKeys: [String] = []

    public init(userId: Int64) { self.userId = userId }

    /// Whether the profile says anything beyond the defaults.
    var isDefault: Bool {
        !login && uid == nil && realName.isEmpty && home == nil && shell == nil && passwordChangedAt == nil
            && passwordMaxAge == nil && !mustChangePassword && sshKeys.isEmpty
    }
}

/// Whether a user's password may still be used to log in.
public enum PasswordAge: Sendable, Equatable {
    case current
    /// Older than the maximum age.
    case expired
    /// An admin asked for a change (`vouchctl user expire`).
    case mustChange

    /// The password of `user` at `now` (Unix ms), with `defaultMaxAge` seconds (0: never).
    public static func of(_ user: User, _ profile: LoginProfile?, now: Int64, defaultMaxAge: Int64) -> PasswordAge {
        if profile?.mustChangePassword == true { return .mustChange }
        let maxAge = profile?.passwordMaxAge ?? defaultMaxAge
        guard maxAge > 0 else { return .current }
        let changedAt = profile?.passwordChangedAt ?? user.createdAt
        let (limit, overflow) = maxAge.multipliedReportingOverflow(by: 1000)
        if overflow { return .current }
        return now - changedAt >= limit ? .expired : .current
    }
}
