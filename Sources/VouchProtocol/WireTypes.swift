/// A 16-byte UUID on the wire.
public struct WireUUID: Hashable, Sendable, CustomStringConvertible {
    public var bytes: [UInt8]  // always 16

    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses the 8-4-4-4-12 hex form, any case.
    public init?(string: String) {
        let hex = string.utf8.filter { $0 != UInt8(ascii: "-") }
        guard string.utf8.count == 36, hex.count == 32 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(16)
        var i = hex.startIndex
        while i < hex.endIndex {
            guard let hi = WireUUID.nibble(hex[i]), let lo = WireUUID.nibble(hex[i + 1]) else {
                return nil
            }
            out.append(hi << 4 | lo)
            i += 2
        }
        bytes = out
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Lowercase 8-4-4-4-12.
    public var description: String {
        let digits = Array("0123456789abcdef".utf8)
        var s = [UInt8]()
        for (i, b) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { s.append(UInt8(ascii: "-")) }
            s.append(digits[Int(b >> 4)])
            s.append(digits[Int(b & 0xF)])
        }
        return String(decoding: s, as: UTF8.self)
    }
}

/// Account flags: `u8` bits.
public struct AccountFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let active = AccountFlags(rawValue: 1 << 0)
    public static let admin = AccountFlags(rawValue: 1 << 1)
    public static let superuser = AccountFlags(rawValue: 1 << 2)
    public static let verified = AccountFlags(rawValue: 1 << 3)
    public static let all: AccountFlags = [.active, .admin, .superuser, .verified]
}

/// How a request names a user.
public enum UserSelector: Hashable, Sendable, CustomStringConvertible {
    case id(Int64)
    case uuid(WireUUID)
    case username(String)
    /// Text typed by a person: a username first, else a numeric id, else a uuid.
    case any(String)

    public var description: String {
        switch self {
        case .id(let id): return "#\(id)"
        case .uuid(let u): return u.description
        case .username(let s), .any(let s): return s
        }
    }

    func encode(into w: inout WireWriter) {
        switch self {
        case .id(let id):
            w.u8(1)
            w.i64(id)
        case .uuid(let u):
            w.u8(2)
            w.raw(u.bytes)
        case .username(let s):
            w.u8(3)
            w.string(s)
        case .any(let s):
            w.u8(4)
            w.string(s)
        }
    }

    static func decode(from r: inout WireReader) throws(WireDecodeError) -> UserSelector {
        switch try r.u8("user.kind") {
        case 1: return .id(try r.i64("user.id"))
        case 2: return .uuid(WireUUID(bytes: try r.bytes(16, "user.uuid"))!)
        case 3: return .username(try r.string("user.username"))
        case 4: return .any(try r.string("user.text"))
        case let k: throw WireDecodeError("unknown user selector kind \(k)")
        }
    }
}

/// A user as the protocol shows it: never a password hash.  Times are Unix ms.
public struct UserRecord: Hashable, Sendable {
    public var id: Int64
    public var uuid: WireUUID
    public var username: String
    public var email: String?
    public var flags: AccountFlags
    public var createdAt: Int64
    public var updatedAt: Int64
    public var lastLogin: Int64?
    public var failedLogins: UInt32
    /// Locked until this time; `Int64.max` means until an admin unlocks.
    public var lockedUntil: Int64?

    public init(
        id: Int64, uuid: WireUUID, username: String, email: String?, flags: AccountFlags,
        createdAt: Int64, updatedAt: Int64, lastLogin: Int64?, failedLogins: UInt32 = 0,
        lockedUntil: Int64? = nil
    ) {
        self.id = id
        self.uuid = uuid
        self.username = username
        self.email = email
        self.flags = flags
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.lastLogin = lastLogin
        self.failedLogins = failedLogins
        self.lockedUntil = lockedUntil
    }

    func encode(into w: inout WireWriter) {
        w.i64(id)
        w.raw(uuid.bytes)
        w.string(username)
        w.optionalString(email)
        w.u8(flags.rawValue)
        w.i64(createdAt)
        w.i64(updatedAt)
        w.optionalI64(lastLogin)
        w.u32(failedLogins)
        w.optionalI64(lockedUntil)
    }

    static func decode(from r: inout WireReader) throws(WireDecodeError) -> UserRecord {
        UserRecord(
            id: try r.i64("id"), uuid: WireUUID(bytes: try r.bytes(16, "uuid"))!,
            username: try r.string("username"), email: try r.optionalString("email"),
            flags: AccountFlags(rawValue: try r.u8("flags")), createdAt: try r.i64("created_at"),
            updatedAt: try r.i64("updated_at"), lastLogin: try r.optionalI64("last_login"),
            failedLogins: try r.u32("failed_logins"), lockedUntil: try r.optionalI64("locked_until"))
    }
}

/// Sort order for `list_users`.
public enum UserSortOrder: UInt8, Sendable, CaseIterable {
    case username = 0
    case id = 1
    case created = 2
    case lastLogin = 3
}

/// Where a login comes from (PAM's service, remote host and tty), for logs and events.
public struct LoginContext: Hashable, Sendable {
    public var service: String
    public var remoteHost: String
    public var tty: String
    public init(service: String = "", remoteHost: String = "", tty: String = "") {
        self.service = service
        self.remoteHost = remoteHost
        self.tty = tty
    }
}

/// A live session token as listed to an admin: never the token itself.
public struct TokenInfo: Hashable, Sendable {
    public var id: Int64
    public var label: String
    public var createdAt: Int64
    public var expiresAt: Int64
    public var lastUsed: Int64?
    public init(id: Int64, label: String, createdAt: Int64, expiresAt: Int64, lastUsed: Int64?) {
        self.id = id
        self.label = label
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastUsed = lastUsed
    }
}

/// The daemon's `status` answer.
public struct ServerStatus: Hashable, Sendable {
    public var serverVersion: String
    public var uptimeMillis: Int64
    public var users: Int64
    public var tokens: Int64
    public var requestsServed: Int64
    public var connections: Int64
    public init(
        serverVersion: String, uptimeMillis: Int64, users: Int64, tokens: Int64,
        requestsServed: Int64, connections: Int64
    ) {
        self.serverVersion = serverVersion
        self.uptimeMillis = uptimeMillis
        self.users = users
        self.tokens = tokens
        self.requestsServed = requestsServed
        self.connections = connections
    }
}

/// The daemon's `hello` answer.
public struct ServerHello: Hashable, Sendable {
    public var minVersion: UInt8
    public var maxVersion: UInt8
    public var maxFrameBytes: UInt32
    public var serverVersion: String
    public init(minVersion: UInt8, maxVersion: UInt8, maxFrameBytes: UInt32, serverVersion: String) {
        self.minVersion = minVersion
        self.maxVersion = maxVersion
        self.maxFrameBytes = maxFrameBytes
        self.serverVersion = serverVersion
    }
}
