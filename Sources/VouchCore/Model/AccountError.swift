/// Why an account operation was refused.
///
/// A struct wrapping a code, so new codes can be added without breaking
/// callers that switch over the known ones.  `reason` is human text for the
/// person at the CLI; it never contains a password, a hash or a token.
public struct AccountError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let invalidCredentials = Code(rawValue: "invalid credentials")
        public static let inactive = Code(rawValue: "inactive")
        public static let notFound = Code(rawValue: "not found")
        public static let usernameTaken = Code(rawValue: "username taken")
        public static let emailTaken = Code(rawValue: "email taken")
        public static let passwordRejected = Code(rawValue: "password rejected")
        public static let invalidInput = Code(rawValue: "invalid input")
        public static let busy = Code(rawValue: "busy")
        public static let storageUnavailable = Code(rawValue: "storage unavailable")
        public static let internalError = Code(rawValue: "internal error")
        public static let invalidToken = Code(rawValue: "invalid token")
        public static let locked = Code(rawValue: "locked")
        public static let rateLimited = Code(rawValue: "rate limited")
        public static let alreadyVerified = Code(rawValue: "already verified")
        public static let vetoed = Code(rawValue: "vetoed")
        /// The password is right but must be changed before it is accepted again.
        public static let passwordExpired = Code(rawValue: "password expired")

        public var description: String { rawValue }
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String? = nil) {
        self.code = code
        self.reason = reason ?? AccountError.defaultReason(code)
    }

    public var description: String { reason }

    static func defaultReason(_ code: Code) -> String {
        switch code {
        case .invalidCredentials: return "Invalid username or password"
        case .inactive: return "The account is inactive"
        case .notFound: return "No such user"
        case .usernameTaken: return "A user with that username already exists"
        case .emailTaken: return "A user with that email already exists"
        case .busy: return "The server is busy; try again"
        case .storageUnavailable: return "The user database is unavailable"
        case .invalidToken: return "Invalid or expired token"
        case .locked: return "The account is locked"
        case .rateLimited: return "Too many failed logins; try again later"
        case .alreadyVerified: return "The user is already verified"
        case .passwordExpired: return "The password has expired and must be changed"
        default: return code.rawValue.prefix(1).uppercased() + code.rawValue.dropFirst()
        }
    }

    public static func invalidCredentials() -> AccountError { AccountError(.invalidCredentials) }
    public static func notFound(_ ref: UserRef) -> AccountError {
        AccountError(.notFound, "User \(ref) doesn't exist")
    }
    public static func passwordRejected(_ reason: String) -> AccountError {
        AccountError(.passwordRejected, reason)
    }
    public static func invalidInput(_ reason: String) -> AccountError {
        AccountError(.invalidInput, reason)
    }
}
