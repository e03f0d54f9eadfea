import Glibc
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Where the listening socket comes from and how it looks on disk.
public struct ListenerOptions: Sendable {
    public var socketPath: String
    public var socketMode: UInt32
    public var socketGroup: String?
    /// A listening socket passed by systemd (socket activation); nil to bind our own.
    public var inheritedFD: Int32?
    public var backlog: Int32 = 256
    public var maxRequestsInFlight: Int = 64
    public var maxFrameBytes: Int
    /// Open connections at most, in total and per peer uid (0: no cap).
    public var maxConnections: Int = 1024
    public var maxConnectionsPerUID: Int = 64
    /// Of `maxConnections`, slots only root and admins may take.
    public var reservedConnections: Int = 16
    /// Seconds without a request before an idle connection is closed (0: never).
    public var idleTimeoutSeconds: Int64 = 300

    public init(socketPath: String, socketMode: UInt32, socketGroup: String?, inheritedFD: Int32?, maxFrameBytes: Int) {
        self.socketPath = socketPath
        self.socketMode = socketMode
        self.socketGroup = socketGroup
        self.inheritedFD = inheritedFD
        self.maxFrameBytes = maxFrameBytes
    }
}

public struct ServerStartupError: Error, CustomStringConvertible {
    public let description: String
}

/// The Unix socket server, as a `Service`: binds (or adopts) the socket,
/// serves until a graceful shutdown, then stops accepting, lets in-flight
/// requests finish, closes connections and removes the socket file it made
/// (if it is still that file: see `SocketFile`).
public final class SocketServer: Service {
    let options: ListenerOptions
    let dispatcher: Dispatcher
    let authorizer: Authorizer
    let group: any EventLoopGroup
    let logger: Logger
    let registry: ConnectionRegistry
    let onListening: @Sendable () -> Void
    let onDraining: @Sendable () -> Void

    public init(
        options: ListenerOptions, dispatcher: Dispatcher, authorizer: Authorizer, group: any EventLoopGroup,
        logger: Logger, onListening: @escaping @Sendable () -> Void = {},
        onDraining: @escaping @Sendable () -> Void = {}
    ) {
        self.options = options
        self.dispatcher = dispatcher
        self.authorizer = authorizer
        self.group = group
        self.logger = logger
        self.registry = ConnectionRegistry(metrics: dispatcher.metrics)
        self.onListening = onListening
        self.onDraining = onDraining
    }

    public func run() async throws {
        let (channel, socketFile) = try await bind()
        logger.info(
            "listening", metadata: ["socket": "\(options.socketPath)", "activated": "\(options.inheritedFD != nil)"])
        onListening()
        await withGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
        onDraining()
        logger.info(
            "draining", metadata: ["in_flight": "\(registry.requestsInFlight)", "connections": "\(registry.count)"])
        await registry.drain(timeout: .seconds(10))
        if socketFile != nil, !SocketFile.remove(options.socketPath, ifStill: socketFile) {
            logger.notice(
                "the socket file is no longer the one this daemon bound; leaving it",
                metadata: ["socket": "\(options.socketPath)"])
        }
        logger.info("stopped listening")
    }

    /// The listening channel, and the identity of the socket file it made (nil when inherited).
    private func bind() async throws -> (any Channel, SocketFile.Identity?) {
        let dispatcher = self.dispatcher
        let authorizer = self.authorizer
        let registry = self.registry
        let logger = self.logger
        let limits = ConnectionLimits(
            maxFrameBytes: options.maxFrameBytes, maxRequestsInFlight: options.maxRequestsInFlight,
            timeouts: .init(idle: .seconds(options.idleTimeoutSeconds)))
        let limiter = ConnectionLimiter(
            maxTotal: options.maxConnections, maxPerUID: options.maxConnectionsPerUID,
            reserved: options.reservedConnections)
        let repeats = dispatcher.repeats
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: options.backlog)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptErrorLogger(repeats: repeats))
                }
            }
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 32 * 1024, high: 256 * 1024))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let fd = try channel.pipeline.syncOperations.withUnsafeTransportIfAvailable(
                        of: NIOBSDSocket.Handle.self
                    ) { $0 }
                    guard let fd, let credentials = PeerCredentials.of(socket: fd) else {
                        logger.warning("could not read peer credentials; closing connection")
                        throw ServerStartupError(description: "no peer credentials")
                    }
                    let isAdmin = authorizer.isAdmin(credentials)
                    if let reason = limiter.admit(uid: credentials.uid, privileged: isAdmin) {
                        repeats.note(
                            .notice, "connection refused: \(reason)", event: "connection_limit",
                            source: "uid \(credentials.uid)",
                            metadata: ["peer_uid": "\(credentials.uid)", "peer_pid": "\(credentials.pid)"])
                        try channel.pipeline.syncOperations.addHandler(RefuseConnectionHandler(reason: reason))
                        return
                    }
                    channel.closeFuture.whenComplete { _ in limiter.release(uid: credentials.uid) }
                    let peer = PeerContext(credentials: credentials, isAdmin: isAdmin)
                    registry.add(channel)
                    try channel.pipeline.syncOperations.addHandler(
                        ConnectionHandler(
                            dispatcher: dispatcher, peer: peer, limits: limits, registry: registry, logger: logger))
                }
            }
        if let fd = options.inheritedFD {
            return (try await bootstrap.withBoundSocket(fd).get(), nil)
        }
        // A socket where another daemon answers is never taken over; a stale one is replaced.
        try SocketFile.prepareToBind(options.socketPath)
        // Bind with a strict umask so the socket never exists with a looser mode, then set mode and group.
        let oldMask = umask(0o077)
        defer { umask(oldMask) }
        let channel: any Channel
        let fd = try SocketFile.bindListening(options.socketPath, backlog: options.backlog)
        do {
            channel = try await bootstrap.withBoundSocket(fd).get()
        } catch {
            close(fd)
            unlink(options.socketPath)
            throw ServerStartupError(description: "cannot listen on \(options.socketPath): \(error)")
        }
        if let groupName = options.socketGroup {
            if let gid = Authorizer.gid(of: groupName) {
                if chown(options.socketPath, UInt32.max, gid) != 0 {
                    logger.warning(
                        "cannot set the socket's group", metadata: ["group": "\(groupName)", "errno": "\(errno)"])
                }
            } else {
                logger.warning(
                    "socket group does not exist; keeping the daemon's group", metadata: ["group": "\(groupName)"])
            }
        }
        guard chmod(options.socketPath, mode_t(options.socketMode)) == 0 else {
            channel.close(promise: nil)
            throw ServerStartupError(description: "cannot set mode of \(options.socketPath): errno \(errno)")
        }
        return (channel, SocketFile.identity(of: options.socketPath))
    }
}
