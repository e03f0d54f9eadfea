/// Who asked for an operation: the peer's credentials and, for logins
/// through PAM, the service, remote host and tty.  Used in logs and events only.
public struct Caller: Hashable, Sendable {
    public var uid: UInt32
    public var pid: Int32
    public var service: String
    public var remoteHost: String
    public var tty: String

    public init(uid: UInt32, pid: Int32, service: String = "", remoteHost: String = "", tty: String = "") {
        self.uid = uid
        self.pid = pid
        self.service = service
        self.remoteHost = remoteHost
        self.tty = tty
    }

    /// The daemon itself (background work).
    public static let daemon = Caller(uid: 0, pid: 0, service: "vouchd")
}

/// The lifecycle events of FastAPI Users' UserManager, plus failed logins.
/// The raw value names the event in logs, the events table and the hooks
/// directory (`hooks_dir/<event>/`).
public enum AccountEventKind: String, Sendable, CaseIterable {
    case register
    case update
    case login
    case failedLogin = "failed_login"
    case lockout
    case requestVerify = "request_verify"
    case verify
    case forgotPassword = "forgot_password"
    case resetPassword = "reset_password"
    case passwordChanged = "password_changed"
    case beforeDelete = "before_delete"
    case delete
}

/// One event.  `token` (reset and verify tokens) goes only to hooks, on
/// their standard input: never to logs, the events table, argv or the environment.
public struct AccountEvent: Sendable {
    public var kind: AccountEventKind
    public var time: Int64
    public var user: User?
    /// The name the caller gave, for events without a user (a failed login of an unknown name).
    public var username: String
    public var caller: Caller
    public var changed: [String]
    public var reason: String?
    public var token: String?
    public var tokenExpiresAt: Int64?

    public init(
        kind: AccountEventKind, time: Int64, user: User?, username: String? = nil, caller: Caller,
        changed: [String] = [], reason: String? = nil, token: String? = nil, tokenExpiresAt: Int64? = nil
    ) {
        self.kind = kind
        self.time = time
        self.user = user
        self.username = username ?? user?.username ?? ""
        self.caller = caller
        self.changed = changed
        self.reason = reason
        self.token = token
        self.tokenExpiresAt = tokenExpiresAt
    }

    /// The JSON document a hook reads on stdin (`includeToken`) or the
    /// events table keeps (without the token).
    public func json(includeToken: Bool) -> String {
        var o = JSONWriter()
        o.field("event", kind.rawValue)
        o.field("time_ms", time)
        if let user {
            var u = JSONWriter()
            u.field("id", user.id)
            u.field("uuid", user.uuid.uuidString.lowercased())
            u.field("username", user.username)
            u.field("email", user.email)
            u.field("active", user.isActive)
            u.field("admin", user.isAdmin)
            u.field("superuser", user.isSuperuser)
            u.field("verified", user.isVerified)
            o.raw("user", u.finish())
        } else {
            o.raw("user", "null")
            o.field("username", username)
        }
        var p = JSONWriter()
        p.field("uid", Int64(caller.uid))
        p.field("pid", Int64(caller.pid))
        if !caller.service.isEmpty { p.field("service", caller.service) }
        if !caller.remoteHost.isEmpty { p.field("rhost", caller.remoteHost) }
        if !caller.tty.isEmpty { p.field("tty", caller.tty) }
        o.raw("peer", p.finish())
        if !changed.isEmpty { o.raw("changed", "[" + changed.map(JSONWriter.quote).joined(separator: ",") + "]") }
        if let reason { o.field("reason", reason) }
        if includeToken, let token {
            o.field("token", token)
            if let tokenExpiresAt { o.field("token_expires_ms", tokenExpiresAt) }
        }
        return o.finish()
    }
}

/// A minimal JSON object writer (no Foundation).
struct JSONWriter {
    private var parts: [String] = []

    mutating func field(_ key: String, _ value: String?) {
        parts.append(Self.quote(key) + ":" + (value.map(Self.quote) ?? "null"))
    }
    mutating func field(_ key: String, _ value: Int64) { parts.append(Self.quote(key) + ":" + String(value)) }
    mutating func field(_ key: String, _ value: Bool) {
        parts.append(Self.quote(key) + ":" + (value ? "true" : "false"))
    }
    mutating func raw(_ key: String, _ json: String) { parts.append(Self.quote(key) + ":" + json) }
    func finish() -> String { "{" + parts.joined(separator: ",") + "}" }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x2028...0x2029).contains(scalar.value) {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
