/// Bodies of the Linux-login operations (opcodes 0x60-0x64, admin only):
/// a user's login account, SSH keys and password aging.  See
/// docs/PROTOCOL.md, "Linux logins".  The `user` record of the other
/// opcodes is unchanged; these answer with a `LinuxAccountRecord`.

/// Whether a password may be used to log in (`password_state`).
public enum WirePasswordState: UInt8, Sendable, CustomStringConvertible {
    case current = 0
    /// Older than its maximum age.
    case expired = 1
    /// An admin asked for a change (`vouchctl user expire`).
    case mustChange = 2

    public var description: String {
        switch self {
        case .current: return "current"
        case .expired: return "expired"
        case .mustChange: return "must change"
        }
    }
}

/// A user's Linux login and password aging, with effective values
/// (templates and defaults applied).
public struct LinuxAccountRecord: Hashable, Sendable {
    public var userId: Int64
    public var username: String
    public var login: Bool
    /// 0: none given yet.  The primary group's gid equals it.
    public var uid: UInt32
    public var realName: String
    public var home: String
    public var shell: String
    public var passwordChangedAt: Int64?
    /// Seconds; nil: the server's `password_max_age`; 0: never.
    public var passwordMaxAge: Int64?
    /// The maximum age in force, in seconds (0: never).
    public var effectiveMaxAge: Int64
    public var mustChangePassword: Bool
    public var passwordState: WirePasswordState
    public var sshKeys: [String]

    public init(
        userId: Int64, username: String, login: Bool, uid: UInt32, realName: String, home: String, shell: String,
        passwordChangedAt: Int64?, passwordMaxAge: Int64?, effectiveMaxAge: Int64, mustChangePassword: Bool,
        passwordState: WirePasswordState, sshKeys: [String]
    ) {
        self.userId = userId
        self.username = username
        self.login = login
        self.uid = uid
        self.realName = realName
        self.home = home
        self.shell = shell
        self.passwordChangedAt = passwordChangedAt
        self.passwordMaxAge = passwordMaxAge
        self.effectiveMaxAge = effectiveMaxAge
        self.mustChangePassword = mustChangePassword
        self.passwordState = passwordState
        self.sshKeys = sshKeys
    }

    /// `i64 user_id, str username, bool login, u32 uid, str real_name, str home, str shell,
    /// opt<time> password_changed_at, opt<i64> password_max_age, i64 effective_max_age,
    /// bool must_change_password, u8 password_state, u32 key_count, str key × key_count`.
    public func encode(into w: inout WireWriter) {
        w.i64(userId)
        w.string(username)
        w.bool(login)
        w.u32(uid)
        w.string(realName)
        w.string(home)
        w.string(shell)
        w.optionalI64(passwordChangedAt)
        w.optionalI64(passwordMaxAge)
        w.i64(effectiveMaxAge)
        w.bool(mustChangePassword)
        w.u8(passwordState.rawValue)
        w.u32(UInt32(sshKeys.count))
        for key in sshKeys { w.string(key) }
    }

    public static func decode(from r: inout WireReader) throws(WireDecodeError) -> LinuxAccountRecord {
        let userId = try r.i64("user_id")
        let username = try r.string("username")
        let login = try r.bool("login")
        let uid = try r.u32("uid")
        let realName = try r.string("real_name")
        let home = try r.string("home")
        let shell = try r.string("shell")
        let changedAt = try r.optionalI64("password_changed_at")
        let maxAge = try r.optionalI64("password_max_age")
        let effective = try r.i64("effective_max_age")
        let mustChange = try r.bool("must_change_password")
        let raw = try r.u8("password_state")
        guard let state = WirePasswordState(rawValue: raw) else {
            throw WireDecodeError("unknown password state \(raw)")
        }
        let count = try r.u32("key_count")
        guard count <= 1000 else { throw WireDecodeError("too many keys") }
        var keys: [String] = []
        for _ in 0..<count { keys.append(try r.string("key")) }
        return LinuxAccountRecord(
            userId: userId, username: username, login: login, uid: uid, realName: realName, home: home, shell: shell,
            passwordChangedAt: changedAt, passwordMaxAge: maxAge, effectiveMaxAge: effective,
            mustChangePassword: mustChange, passwordState: state, sshKeys: keys)
    }
}

/// What `set_linux_account` changes: `nil` leaves a field.  An empty
/// `home` or `shell` returns it to the server's default.
public struct LinuxAccountChange: Hashable, Sendable {
    public var login: Bool?
    public var realName: String?
    public var home: String?
    public var shell: String?
    public init(login: Bool? = nil, realName: String? = nil, home: String? = nil, shell: String? = nil) {
        self.login = login
        self.realName = realName
        self.home = home
        self.shell = shell
    }
}

public enum LinuxRequest: Equatable, Sendable {
    /// 0x60
    case getLinuxAccount(UserSelector)
    /// 0x61
    case setLinuxAccount(UserSelector, LinuxAccountChange)
    /// 0x62: one `authorized_keys` line.
    case addSSHKey(UserSelector, key: String)
    /// 0x63: the key's line or its base64 part.
    case removeSSHKey(UserSelector, key: String)
    /// 0x64: `maxAge` nil leaves it, `.some(nil)` returns to the default,
    /// `.some(0)` never expires; `expire` forces a change at the next login.
    case setPasswordAging(UserSelector, maxAge: Int64??, expire: Bool)

    public var opcode: Opcode {
        switch self {
        case .getLinuxAccount: return .getLinuxAccount
        case .setLinuxAccount: return .setLinuxAccount
        case .addSSHKey: return .addSSHKey
        case .removeSSHKey: return .removeSSHKey
        case .setPasswordAging: return .setPasswordAging
        }
    }

    public func encodeBody(into w: inout WireWriter) {
        switch self {
        case .getLinuxAccount(let user):
            user.encode(into: &w)
        case .setLinuxAccount(let user, let change):
            user.encode(into: &w)
            var mask: UInt8 = 0
            if change.login != nil { mask |= 1 }
            if change.realName != nil { mask |= 2 }
            if change.home != nil { mask |= 4 }
            if change.shell != nil { mask |= 8 }
            w.u8(mask)
            w.bool(change.login ?? false)
            w.string(change.realName ?? "")
            w.string(change.home ?? "")
            w.string(change.shell ?? "")
        case .addSSHKey(let user, let key), .removeSSHKey(let user, let key):
            user.encode(into: &w)
            w.string(key)
        case .setPasswordAging(let user, let maxAge, let expire):
            user.encode(into: &w)
            w.u8((maxAge != nil ? 1 : 0) | (expire ? 2 : 0))
            w.i64(maxAge.map { $0 ?? -1 } ?? -1)
        }
    }

    static func decodeBody(_ opcode: Opcode, from r: inout WireReader) throws(WireDecodeError) -> LinuxRequest {
        let user = try UserSelector.decode(from: &r)
        switch opcode {
        case .getLinuxAccount:
            return .getLinuxAccount(user)
        case .setLinuxAccount:
            let mask = try r.u8("set")
            guard mask & ~0x0f == 0 else { throw WireDecodeError("unknown set bits") }
            let login = try r.bool("login")
            let realName = try r.string("real_name")
            let home = try r.string("home")
            let shell = try r.string("shell")
            // One encoding per request: a field whose bit is clear holds its neutral value.
            guard mask & 1 != 0 || !login, mask & 2 != 0 || realName.isEmpty, mask & 4 != 0 || home.isEmpty,
                mask & 8 != 0 || shell.isEmpty
            else { throw WireDecodeError("a field not set is not false or empty") }
            return .setLinuxAccount(
                user,
                LinuxAccountChange(
                    login: mask & 1 != 0 ? login : nil, realName: mask & 2 != 0 ? realName : nil,
                    home: mask & 4 != 0 ? home : nil, shell: mask & 8 != 0 ? shell : nil))
        case .addSSHKey:
            return .addSSHKey(user, key: try r.string("key"))
        case .removeSSHKey:
            return .removeSSHKey(user, key: try r.string("key"))
        default:
            let options = try r.u8("options")
            guard options & ~3 == 0 else { throw WireDecodeError("unknown aging option bits") }
            let age = try r.i64("max_age")
            guard age >= -1 else { throw WireDecodeError("max_age below -1") }
            guard options & 1 != 0 || age == -1 else { throw WireDecodeError("max_age not -1 without options bit 0") }
            let maxAge: Int64?? = options & 1 != 0 ? .some(age == -1 ? nil : age) : nil
            return .setPasswordAging(user, maxAge: maxAge, expire: options & 2 != 0)
        }
    }
}
