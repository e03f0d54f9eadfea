import FoundationEssentials
import Glibc

/// The account flags of Piccolo's BaseUser and FastAPI Users' user model.
public struct UserFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let active = UserFlags(rawValue: 1 << 0)
    public static let admin = UserFlags(rawValue: 1 << 1)
    public static let superuser = UserFlags(rawValue: 1 << 2)
    public static let verified = UserFlags(rawValue: 1 << 3)

    public static let all: UserFlags = [.active, .admin, .superuser, .verified]
}

/// A user as vouch keeps it.  Times are Unix milliseconds.
///
/// `description` never shows the password hash.
public struct User: Hashable, Sendable, CustomStringConvertible {
    public var id: Int64
    public var uuid: UUID
    public var username: String
    public var email: String?
    /// PHC string (argon2id) or another format vouch verifies; never printed.
    /// Held packed (see ``PackedPasswordHash``): a user is copied out of the
    /// cache on every lookup, and most lookups never read the hash.
    public var passwordHash: String {
        get { packedHash.text }
        set { packedHash = PackedPasswordHash(newValue) }
    }
    var packedHash: PackedPasswordHash
    public var createdAt: Int64
    public var updatedAt: Int64
    public var lastLogin: Int64?
    // After an optional's tag byte rather than before an Int64: 8 bytes less a user.
    public var flags: UserFlags
    /// Failed logins counted towards a lockout (see the lockout policy).
    public var failedLogins: UInt32
    /// When set and in the future, the account is locked until then;
    /// `Int64.max` means until an admin unlocks it.
    public var lockedUntil: Int64?
    /// When the current window of failed logins began (see ``LockoutPolicy``).
    public var failuresSince: Int64?

    public init(
        id: Int64, uuid: UUID, username: String, email: String?, passwordHash: String,
        flags: UserFlags, createdAt: Int64, updatedAt: Int64, lastLogin: Int64? = nil,
        failedLogins: UInt32 = 0, lockedUntil: Int64? = nil, failuresSince: Int64? = nil
    ) {
        self.init(
            id: id, uuid: uuid, username: username, email: email, packedHash: PackedPasswordHash(passwordHash),
            flags: flags, createdAt: createdAt, updatedAt: updatedAt, lastLogin: lastLogin,
            failedLogins: failedLogins, lockedUntil: lockedUntil, failuresSince: failuresSince)
    }

    init(
        id: Int64, uuid: UUID, username: String, email: String?, packedHash: PackedPasswordHash,
        flags: UserFlags, createdAt: Int64, updatedAt: Int64, lastLogin: Int64? = nil,
        failedLogins: UInt32 = 0, lockedUntil: Int64? = nil, failuresSince: Int64? = nil
    ) {
        self.id = id
        self.uuid = uuid
        self.username = username
        self.email = email
        self.packedHash = packedHash
        self.flags = flags
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.lastLogin = lastLogin
        self.failedLogins = failedLogins
        self.lockedUntil = lockedUntil
        self.failuresSince = failuresSince
    }

    public var isActive: Bool { flags.contains(.active) }
    public var isAdmin: Bool { flags.contains(.admin) }
    public var isSuperuser: Bool { flags.contains(.superuser) }
    public var isVerified: Bool { flags.contains(.verified) }

    public var description: String {
        "User(id: \(id), username: \(username), flags: \(flags.rawValue))"
    }
}

/// How a request names a user: by id, uuid or username.  `.any` is text
/// typed by a person, resolved as a username first, then as a numeric id,
/// then as a uuid.
public enum UserRef: Hashable, Sendable, CustomStringConvertible {
    case id(Int64)
    case uuid(UUID)
    case name(String)
    case any(String)

    public var description: String {
        switch self {
        case .id(let id): return "#\(id)"
        case .uuid(let u): return u.uuidString.lowercased()
        case .name(let n), .any(let n): return n
        }
    }
}

/// Sort orders for listing users.
public enum UserOrder: UInt8, Sendable, CaseIterable {
    case username = 0
    case id = 1
    case created = 2
    case lastLogin = 3
}

/// A time source.  Tests inject a manual clock instead of sleeping.
public protocol VouchClock: Sendable {
    /// Unix time in milliseconds.
    func nowMillis() -> Int64
}

public struct SystemClock: VouchClock {
    public init() {}
    public func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
