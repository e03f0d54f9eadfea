/// A response status: a stable `u16` on the wire.
///
/// A struct rather than an enum, so a status added by a newer daemon still
/// decodes in an older client (it prints as `status N`).
public struct Status: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let ok = Status(rawValue: 0)
    public static let invalidCredentials = Status(rawValue: 1)
    public static let inactive = Status(rawValue: 2)
    public static let notFound = Status(rawValue: 3)
    public static let usernameTaken = Status(rawValue: 4)
    public static let emailTaken = Status(rawValue: 5)
    public static let passwordRejected = Status(rawValue: 6)
    public static let permissionDenied = Status(rawValue: 7)
    public static let badRequest = Status(rawValue: 8)
    public static let unsupportedVersion = Status(rawValue: 9)
    public static let unknownOpcode = Status(rawValue: 10)
    public static let busy = Status(rawValue: 11)
    public static let internalError = Status(rawValue: 12)
    public static let frameTooLarge = Status(rawValue: 13)
    public static let invalidToken = Status(rawValue: 14)
    public static let locked = Status(rawValue: 15)
    public static let rateLimited = Status(rawValue: 16)
    public static let alreadyVerified = Status(rawValue: 17)
    public static let storageUnavailable = Status(rawValue: 18)
    public static let vetoed = Status(rawValue: 19)
    public static let invalidInput = Status(rawValue: 20)
    public static let limitExceeded = Status(rawValue: 21)
    /// The password is right but must be changed (`change_password`) before
    /// `login` accepts it; `account_status` answers it for such an account.
    public static let passwordExpired = Status(rawValue: 22)

    public static let known: [Status] = (0...22).map { Status(rawValue: $0) }

    public var name: String {
        switch self {
        case .ok: return "ok"
        case .invalidCredentials: return "invalid credentials"
        case .inactive: return "inactive"
        case .notFound: return "not found"
        case .usernameTaken: return "username taken"
        case .emailTaken: return "email taken"
        case .passwordRejected: return "password rejected"
        case .permissionDenied: return "permission denied"
        case .badRequest: return "bad request"
        case .unsupportedVersion: return "unsupported version"
        case .unknownOpcode: return "unknown opcode"
        case .busy: return "busy"
        case .internalError: return "internal error"
        case .frameTooLarge: return "frame too large"
        case .invalidToken: return "invalid token"
        case .locked: return "locked"
        case .rateLimited: return "rate limited"
        case .alreadyVerified: return "already verified"
        case .storageUnavailable: return "storage unavailable"
        case .vetoed: return "vetoed"
        case .invalidInput: return "invalid input"
        case .limitExceeded: return "limit exceeded"
        case .passwordExpired: return "password expired"
        default: return "status \(rawValue)"
        }
    }

    public var description: String { name }
}
