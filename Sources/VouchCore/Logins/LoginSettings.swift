/// The Linux-login keys of vouchd.conf that the core needs (see docs/LINUX-LOGINS.md).
public struct LoginSettings: Hashable, Sendable {
    public var uidRange: ClosedRange<UInt32> = 70000...99999
    /// `%u` is the username.
    public var homeTemplate: String = "/home/%u"
    public var defaultShell: String = "/bin/bash"
    /// Seconds; 0: passwords never expire unless a user's own maximum says so.
    public var passwordMaxAge: Int64 = 0

    public init() {}

    public init(config: VouchConfig) {
        uidRange = config.uidRange
        homeTemplate = config.loginHome
        defaultShell = config.loginShell
        passwordMaxAge = config.passwordMaxAge
    }

    public func home(of profile: LoginProfile, username: String) -> String {
        profile.home ?? homeTemplate.replacing("%u", with: username)
    }

    public func shell(of profile: LoginProfile) -> String { profile.shell ?? defaultShell }
}
