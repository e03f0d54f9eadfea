/// Where a request comes from, for fairness and rate limits: the peer's uid,
/// and for a privileged peer (root or an admin, such as sshd's PAM stack)
/// the PAM service and remote host it reports.  A privileged peer speaks for
/// many people, so each (service, remote host) gets its own share; an
/// unprivileged peer could make up any service or host, so all its requests
/// are one source.
public struct RequestSource: Hashable, Sendable, CustomStringConvertible {
    public var uid: UInt32
    public var service: String
    public var remoteHost: String

    public init(uid: UInt32, service: String = "", remoteHost: String = "") {
        self.uid = uid
        self.service = service
        self.remoteHost = remoteHost
    }

    /// The daemon's own background work (checkpoints, token maintenance).
    public static let daemon = RequestSource(uid: UInt32.max, service: "vouchd")

    public var description: String {
        if service.isEmpty && remoteHost.isEmpty { return "uid \(uid)" }
        return "uid \(uid) service \"\(service)\" rhost \"\(remoteHost)\""
    }
}
