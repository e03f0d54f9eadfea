import VouchCore

/// JSON user and group records (systemd's "JSON User Records" and "JSON
/// Group Records") of vouch's login users, as io.systemd.UserDatabase
/// serves them.  Encoded with Foundation's `JSONEncoder`; absent optionals
/// are left out.
struct UserdbUserRecord: Encodable {
    struct Status: Encodable {
        let service: String
    }
    struct Privileged: Encodable {
        let sshAuthorizedKeys: [String]
    }

    let userName: String
    let realName: String?
    let uid: UInt32
    let gid: UInt32
    let homeDirectory: String
    let shell: String
    let disposition = "regular"
    /// An inactive vouch user: visible, but PAM and sshd refuse it.
    let locked: Bool?
    let lastPasswordChangeUSec: Int64?
    let passwordChangeMaxUSec: Int64?
    let passwordChangeNow: Bool?
    /// Keyed by the machine id: clients refuse a record without it.
    let status: [String: Status]
    /// Only for root callers.
    let privileged: Privileged?

    init(
        user: User, profile p: LoginProfile, settings: LoginSettings, machineID: String, privileged: Bool
    ) {
        userName = user.username
        realName = p.realName.isEmpty ? nil : p.realName
        uid = p.uid ?? 0
        gid = p.uid ?? 0
        homeDirectory = settings.home(of: p, username: user.username)
        shell = settings.shell(of: p)
        locked = user.isActive ? nil : true
        lastPasswordChangeUSec = p.passwordChangedAt.map { $0 * 1000 }
        let maxAge = p.passwordMaxAge ?? settings.passwordMaxAge
        passwordChangeMaxUSec = maxAge > 0 ? maxAge * 1_000_000 : nil
        passwordChangeNow = p.mustChangePassword ? true : nil
        status = [machineID: Status(service: HostAccounts.userdbService)]
        self.privileged = privileged && !p.sshKeys.isEmpty ? Privileged(sshAuthorizedKeys: p.sshKeys) : nil
    }
}

/// The primary group of a login user: same name, gid = uid.
struct UserdbGroupRecord: Encodable {
    let groupName: String
    let gid: UInt32
    let disposition = "regular"
    let status: [String: UserdbUserRecord.Status]

    init(user: User, profile p: LoginProfile, machineID: String) {
        groupName = user.username
        gid = p.uid ?? 0
        status = [machineID: .init(service: HostAccounts.userdbService)]
    }
}
