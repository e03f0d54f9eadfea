import VouchProtocol

/// Why a call failed: the daemon refused it (with a status and a reason), or
/// it could not be asked at all.  Never carries a password or token.
public struct VouchClientError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// The daemon answered with this non-ok status.
        case refused(Status)
        /// The socket could not be reached.
        case unreachable
        /// No answer within the timeout.
        case timeout
        /// The answer did not follow the protocol.
        case protocolViolation
        /// The connection closed before the answer came.
        case connectionClosed
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The daemon's status, when it answered.
    public var status: Status? {
        if case .refused(let s) = kind { return s }
        return nil
    }

    public var description: String {
        if message.isEmpty, let status { return "\(status)" }
        return message
    }
}
