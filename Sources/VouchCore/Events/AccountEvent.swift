import FoundationEssentials

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
    /// events table keeps (without the token), written by Foundation's
    /// `JSONEncoder` (keys sorted; `user` and `email` null when absent).
    public func json(includeToken: Bool) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let document = EventDocument(event: self, includeToken: includeToken)
        // Strings, integers and booleans only: encoding cannot fail.
        return (try? encoder.encode(document)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

/// The keys of an event's JSON document (docs/HOOKS.md).
private struct EventDocument: Encodable {
    let event: AccountEvent
    let includeToken: Bool

    enum Key: String, CodingKey {
        case event
        case timeMs = "time_ms"
        case user, username, peer, changed, reason, token
        case tokenExpiresMs = "token_expires_ms"
        case id, uuid, email, active, admin, superuser, verified
        case uid, pid, service, rhost, tty
    }

    func encode(to encoder: any Encoder) throws {
        var o = encoder.container(keyedBy: Key.self)
        try o.encode(event.kind.rawValue, forKey: .event)
        try o.encode(event.time, forKey: .timeMs)
        if let user = event.user {
            var u = o.nestedContainer(keyedBy: Key.self, forKey: .user)
            try u.encode(user.id, forKey: .id)
            try u.encode(user.uuid.uuidString.lowercased(), forKey: .uuid)
            try u.encode(user.username, forKey: .username)
            try u.encode(user.email, forKey: .email)
            try u.encode(user.isActive, forKey: .active)
            try u.encode(user.isAdmin, forKey: .admin)
            try u.encode(user.isSuperuser, forKey: .superuser)
            try u.encode(user.isVerified, forKey: .verified)
        } else {
            try o.encodeNil(forKey: .user)
            try o.encode(event.username, forKey: .username)
        }
        let caller = event.caller
        var p = o.nestedContainer(keyedBy: Key.self, forKey: .peer)
        try p.encode(Int64(caller.uid), forKey: .uid)
        try p.encode(Int64(caller.pid), forKey: .pid)
        if !caller.service.isEmpty { try p.encode(caller.service, forKey: .service) }
        if !caller.remoteHost.isEmpty { try p.encode(caller.remoteHost, forKey: .rhost) }
        if !caller.tty.isEmpty { try p.encode(caller.tty, forKey: .tty) }
        if !event.changed.isEmpty { try o.encode(event.changed, forKey: .changed) }
        try o.encodeIfPresent(event.reason, forKey: .reason)
        if includeToken, let token = event.token {
            try o.encode(token, forKey: .token)
            try o.encodeIfPresent(event.tokenExpiresAt, forKey: .tokenExpiresMs)
        }
    }
}
