import VouchSecrets

/// A token handed out once: at login with a token, or issued by an admin.
public struct IssuedToken: Sendable {
    public var token: SecretBytes
    public var expiresAt: Int64
    public init(token: SecretBytes, expiresAt: Int64) {
        self.token = token
        self.expiresAt = expiresAt
    }
}

/// An event as `list_events` returns it.
public struct EventRecord: Hashable, Sendable {
    public var id: Int64
    public var time: Int64
    public var event: String
    public var userId: Int64?
    public var username: String
    public var peerUid: Int64
    public var peerPid: Int64
    /// JSON object with the event's details (never a password or full token).
    public var detail: String
    public init(
        id: Int64, time: Int64, event: String, userId: Int64?, username: String, peerUid: Int64,
        peerPid: Int64, detail: String
    ) {
        self.id = id
        self.time = time
        self.event = event
        self.userId = userId
        self.username = username
        self.peerUid = peerUid
        self.peerPid = peerPid
        self.detail = detail
    }
}

/// `account_status`'s answer: whether the account may log in now.
public enum WireAccountState: UInt8, Sendable, CustomStringConvertible {
    case active = 0
    case inactive = 1
    case locked = 2

    public var description: String {
        switch self {
        case .active: return "active"
        case .inactive: return "inactive"
        case .locked: return "locked"
        }
    }
}

/// The body of a successful response.  Which case answers which opcode is
/// fixed (see `Reply.decodeBody`); a failed response carries only a message.
public enum Reply: Sendable {
    case hello(ServerHello)
    case empty
    case status(ServerStatus)
    case user(UserRecord)
    case login(user: UserRecord, token: IssuedToken?)
    case users(total: UInt32, users: [UserRecord])
    case updated(user: UserRecord, changed: [String])
    case tokenOwner(user: UserRecord, expiresAt: Int64)
    case count(UInt32)
    case issuedToken(IssuedToken)
    case tokens([TokenInfo])
    case events([EventRecord])
    /// Backups, export and import (opcodes 0x50-0x56, DataMessages.swift).
    case data(DataReply)
    case accountState(WireAccountState)
    /// Answers every Linux-login opcode (0x60-0x64).
    case linuxAccount(LinuxAccountRecord)

    public func encodeBody(into w: inout WireWriter) {
        switch self {
        case .hello(let h):
            w.u8(h.minVersion)
            w.u8(h.maxVersion)
            w.u32(h.maxFrameBytes)
            w.string(h.serverVersion)
        case .empty:
            break
        case .status(let s):
            w.string(s.serverVersion)
            w.i64(s.uptimeMillis)
            w.i64(s.users)
            w.i64(s.tokens)
            w.i64(s.requestsServed)
            w.i64(s.connections)
        case .user(let u):
            u.encode(into: &w)
        case .login(let u, let token):
            u.encode(into: &w)
            if let token {
                w.u8(1)
                w.secret(token.token)
                w.i64(token.expiresAt)
            } else {
                w.u8(0)
            }
        case .users(let total, let users):
            w.u32(total)
            w.u32(UInt32(users.count))
            for u in users { u.encode(into: &w) }
        case .updated(let u, let changed):
            u.encode(into: &w)
            w.u8(UInt8(changed.count))
            for c in changed { w.string(c) }
        case .tokenOwner(let u, let expiresAt):
            u.encode(into: &w)
            w.i64(expiresAt)
        case .count(let n):
            w.u32(n)
        case .accountState(let state):
            w.u8(state.rawValue)
        case .issuedToken(let t):
            w.secret(t.token)
            w.i64(t.expiresAt)
        case .tokens(let tokens):
            w.u32(UInt32(tokens.count))
            for t in tokens {
                w.i64(t.id)
                w.string(t.label)
                w.i64(t.createdAt)
                w.i64(t.expiresAt)
                w.optionalI64(t.lastUsed)
            }
        case .events(let events):
            w.u32(UInt32(events.count))
            for e in events {
                w.i64(e.id)
                w.i64(e.time)
                w.string(e.event)
                w.optionalI64(e.userId)
                w.string(e.username)
                w.i64(e.peerUid)
                w.i64(e.peerPid)
                w.string(e.detail)
            }
        case .data(let reply):
            reply.encodeBody(into: &w)
        case .linuxAccount(let record):
            record.encode(into: &w)
        }
    }

    /// Decodes the body of a successful response to `opcode`.
    public static func decodeBody(_ opcode: Opcode, from r: inout WireReader) throws(WireDecodeError)
        -> Reply
    {
        let reply: Reply
        switch opcode {
        case .hello:
            reply = .hello(
                ServerHello(
                    minVersion: try r.u8("min_version"), maxVersion: try r.u8("max_version"),
                    maxFrameBytes: try r.u32("max_frame"), serverVersion: try r.string("server_version")))
        case .ping, .changePassword, .setPassword, .deleteUser, .revokeToken, .forgotPassword,
            .resetPassword, .requestVerify:
            reply = .empty
        case .status:
            reply = .status(
                ServerStatus(
                    serverVersion: try r.string("server_version"), uptimeMillis: try r.i64("uptime"),
                    users: try r.i64("users"), tokens: try r.i64("tokens"),
                    requestsServed: try r.i64("requests"), connections: try r.i64("connections")))
        case .createUser, .getUser, .verifyEmail, .unlockUser:
            reply = .user(try UserRecord.decode(from: &r))
        case .accountStatus:
            let raw = try r.u8("state")
            guard let state = WireAccountState(rawValue: raw) else {
                throw WireDecodeError("unknown account state \(raw)")
            }
            reply = .accountState(state)
        case .login:
            let user = try UserRecord.decode(from: &r)
            let token: IssuedToken? =
                try r.bool("has_token")
                ? IssuedToken(token: try r.secret("token"), expiresAt: try r.i64("expires_at")) : nil
            reply = .login(user: user, token: token)
        case .listUsers:
            let total = try r.u32("total")
            let count = try r.u32("count")
            var users: [UserRecord] = []
            for _ in 0..<count { users.append(try UserRecord.decode(from: &r)) }
            reply = .users(total: total, users: users)
        case .updateUser:
            let user = try UserRecord.decode(from: &r)
            let n = try r.u8("changed_count")
            var changed: [String] = []
            for _ in 0..<n { changed.append(try r.string("changed")) }
            reply = .updated(user: user, changed: changed)
        case .verifyToken:
            reply = .tokenOwner(user: try UserRecord.decode(from: &r), expiresAt: try r.i64("expires_at"))
        case .revokeTokens:
            reply = .count(try r.u32("count"))
        case .issueToken:
            reply = .issuedToken(
                IssuedToken(token: try r.secret("token"), expiresAt: try r.i64("expires_at")))
        case .listTokens:
            let n = try r.u32("count")
            var tokens: [TokenInfo] = []
            for _ in 0..<n {
                tokens.append(
                    TokenInfo(
                        id: try r.i64("id"), label: try r.string("label"), createdAt: try r.i64("created_at"),
                        expiresAt: try r.i64("expires_at"), lastUsed: try r.optionalI64("last_used")))
            }
            reply = .tokens(tokens)
        case .listEvents:
            let n = try r.u32("count")
            var events: [EventRecord] = []
            for _ in 0..<n {
                events.append(
                    EventRecord(
                        id: try r.i64("id"), time: try r.i64("time"), event: try r.string("event"),
                        userId: try r.optionalI64("user_id"), username: try r.string("username"),
                        peerUid: try r.i64("peer_uid"), peerPid: try r.i64("peer_pid"),
                        detail: try r.string("detail")))
            }
            reply = .events(events)
        case .backupBegin, .backupRead, .backupEnd, .exportUsers, .importBegin, .importAdd, .importCommit:
            reply = .data(try DataReply.decodeBody(opcode, from: &r))
        case .getLinuxAccount, .setLinuxAccount, .addSSHKey, .removeSSHKey, .setPasswordAging:
            reply = .linuxAccount(try LinuxAccountRecord.decode(from: &r))
        }
        try r.finish()
        return reply
    }
}
