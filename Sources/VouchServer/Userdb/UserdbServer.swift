import Glibc
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import VouchCore

/// Serves io.systemd.UserDatabase (docs/LINUX-LOGINS.md) on its own Unix
/// socket, as a `Service`.  The socket is mode 0666, as systemd's userdb
/// clients run as any user; callers other than root get records without
/// the `privileged` section (SO_PEERCRED).
public final class UserdbServer: Service {
    public struct Options: Sendable {
        public var socketPath: String
        /// A listening socket passed by systemd; nil to bind our own.
        public var inheritedFD: Int32?
        /// Largest Varlink message read, in bytes.
        public var maxMessageBytes = 16 * 1024
        /// A connection with no call and nothing read for this long is closed.
        public var deadline: TimeAmount = .seconds(10)
        public var maxConnections = 256
        public var maxConnectionsPerUID = 32
        /// Of `maxConnections`, kept for root (sshd, login and su look users up as root).
        public var reservedConnections = 16

        public init(socketPath: String, inheritedFD: Int32?) {
            self.socketPath = socketPath
            self.inheritedFD = inheritedFD
        }
    }

    let options: Options
    let responder: UserdbResponder
    let group: any EventLoopGroup
    let logger: Logger
    /// Refused connections are logged once per uid and interval (the socket is open to every user).
    let repeats: RepeatLog

    public init(
        options: Options, logins: LoginService, group: any EventLoopGroup, repeats: RepeatLog, logger: Logger
    ) {
        self.options = options
        let machineID = Self.machineID()
        if machineID == nil {
            logger.warning(
                "userdb: /etc/machine-id is missing or empty; user lookups are answered ServiceNotAvailable")
        }
        self.responder = UserdbResponder(logins: logins, machineID: machineID)
        self.group = group
        self.repeats = repeats
        self.logger = logger
    }

    /// `userdb = yes` (binding the socket itself unless systemd passed it),
    /// or `auto` when systemd passed it (vouchd-userdb.socket, enabled with
    /// vouchd on a host booted with systemd).
    public static func isEnabled(_ config: VouchConfig, socketPassed: Bool) -> Bool {
        switch config.userdb {
        case "yes": return true
        case "auto": return socketPassed
        default: return false
        }
    }

    /// The 32 hex digits of /etc/machine-id, or nil.
    static func machineID(path: String = "/etc/machine-id") -> String? {
        guard let text = HostAccounts.firstLine(of: path), text.utf8.count == 32,
            text.utf8.allSatisfy(Self.isLowerHex)
        else { return nil }
        return text
    }

    static func isLowerHex(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "f"))
    }

    public func run() async throws {
        let (channel, socketFile) = try await bind()
        logger.info(
            "userdb listening",
            metadata: ["socket": "\(options.socketPath)", "activated": "\(options.inheritedFD != nil)"])
        await withGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onGracefulShutdown: {
            self.responder.draining.store(true, ordering: .relaxed)
            channel.close(promise: nil)
        }
        // Only our own file: a daemon that took the path since keeps it.
        _ = SocketFile.remove(options.socketPath, ifStill: socketFile)
    }

    /// The listening channel, and the identity of the socket file it made (nil when inherited).
    private func bind() async throws -> (any Channel, SocketFile.Identity?) {
        let responder = self.responder
        let logger = self.logger
        let repeats = self.repeats
        let options = self.options
        let limiter = ConnectionLimiter(
            maxTotal: options.maxConnections, maxPerUID: options.maxConnectionsPerUID,
            reserved: options.reservedConnections)
        let bootstrap = ServerBootstrap(group: group)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 16 * 1024, high: 64 * 1024))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let fd = try channel.pipeline.syncOperations.withUnsafeTransportIfAvailable(
                        of: NIOBSDSocket.Handle.self
                    ) { $0 }
                    guard let fd, let credentials = PeerCredentials.of(socket: fd) else {
                        throw ServerStartupError(description: "no peer credentials")
                    }
                    // Over the limit: closed at once, which clients take as "not available" without waiting.
                    if let reason = limiter.admit(uid: credentials.uid, privileged: credentials.uid == 0) {
                        repeats.note(
                            .notice, "userdb connection refused: \(reason)", event: "userdb_connection_limit",
                            source: "uid \(credentials.uid)", metadata: ["peer_uid": "\(credentials.uid)"])
                        throw ServerStartupError(description: reason)
                    }
                    channel.closeFuture.whenComplete { _ in limiter.release(uid: credentials.uid) }
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(VarlinkMessageDecoder(maxBytes: options.maxMessageBytes)))
                    try channel.pipeline.syncOperations.addHandler(
                        UserdbConnectionHandler(
                            responder: responder, privileged: credentials.uid == 0, deadline: options.deadline,
                            logger: logger))
                }
            }
        if let fd = options.inheritedFD {
            return (try await bootstrap.withBoundSocket(fd).get(), nil)
        }
        let directory = String(
            options.socketPath[..<(options.socketPath.lastIndex(of: "/") ?? options.socketPath.startIndex)])
        if !directory.isEmpty { mkdir(directory, 0o755) }
        // A live socket (another daemon's) is never taken over; a stale one is replaced.
        try SocketFile.prepareToBind(options.socketPath)
        let fd = try SocketFile.bindListening(options.socketPath, backlog: 256)
        let channel: any Channel
        do {
            channel = try await bootstrap.withBoundSocket(fd).get()
        } catch {
            close(fd)
            unlink(options.socketPath)
            throw ServerStartupError(description: "cannot listen on \(options.socketPath): \(error)")
        }
        // Any user's lookups go through nss-systemd in their own process.
        guard chmod(options.socketPath, 0o666) == 0 else {
            channel.close(promise: nil)
            unlink(options.socketPath)
            throw ServerStartupError(description: "cannot set mode of \(options.socketPath): errno \(errno)")
        }
        return (channel, SocketFile.identity(of: options.socketPath))
    }
}
