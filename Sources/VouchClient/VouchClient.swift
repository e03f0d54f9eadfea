import Glibc
import NIOCore
import NIOPosix
import Synchronization
import VouchProtocol
import VouchSecrets

/// An async client for vouchd.  One connection; calls may be made
/// concurrently and are pipelined on it, answered in whatever order the
/// daemon finishes them.
public final class VouchClient: Sendable {
    /// The socket vouchd listens on by default.
    public static let defaultSocketPath = "/run/vouch/vouchd.sock"

    public let socketPath: String
    public let timeout: Duration
    private let channel: any Channel
    private let handler: NIOLoopBound<ClientChannelHandler>
    private let nextID = Atomic<UInt32>(1)

    private init(
        socketPath: String, timeout: Duration, channel: any Channel, handler: NIOLoopBound<ClientChannelHandler>
    ) {
        self.socketPath = socketPath
        self.timeout = timeout
        self.channel = channel
        self.handler = handler
    }

    /// Connects to vouchd.  `timeout` bounds the connection and every call.
    public static func connect(
        socketPath: String = defaultSocketPath, timeout: Duration = .seconds(30),
        maxReplyBytes: Int = 16 * 1024 * 1024, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(VouchClientError) -> VouchClient {
        let millis = Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        do {
            let (channel, handler) = try await ClientBootstrap(group: group)
                .connectTimeout(.milliseconds(millis))
                .connect(unixDomainSocketPath: socketPath) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = ClientChannelHandler()
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(ResponseFrameDecoder(maxFrameBytes: maxReplyBytes)))
                        try channel.pipeline.syncOperations.addHandler(handler)
                        return (channel, NIOLoopBound(handler, eventLoop: channel.eventLoop))
                    }
                }
            return VouchClient(socketPath: socketPath, timeout: timeout, channel: channel, handler: handler)
        } catch {
            throw VouchClientError(.unreachable, "cannot connect to vouchd at \(socketPath): \(Self.reason(error))")
        }
    }

    public func close() async {
        try? await channel.close()
    }

    /// Sends one request and returns the body of its `ok` response; any other status throws.
    public func send(_ request: Request) async throws(VouchClientError) -> Reply {
        let response = try await exchange(request)
        guard response.status == .ok, let reply = response.reply else {
            throw VouchClientError(.refused(response.status), response.message)
        }
        return reply
    }

    /// Sends one request and returns the raw response, whatever its status.
    public func exchange(_ request: Request) async throws(VouchClientError) -> ResponseMessage {
        let first = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        // Request id 0 is reserved for connection-level errors: skipped when the counter wraps.
        let id = first != RequestMessage.reservedID ? first : nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        var frameBytes = RequestMessage(id: id, request: request).encodeFrame()
        defer { if request.carriesSecret { frameBytes.withUnsafeMutableBytes { SecretBytes.wipe($0) } } }
        let loop = channel.eventLoop
        let promise = loop.makePromise(of: ResponseMessage.self)
        let pending = PendingRequest(id: id, frame: frameBytes, promise: promise)
        let handler = self.handler
        let timeout = self.timeout
        let timer = loop.scheduleTask(
            in: .nanoseconds(
                Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        ) {
            handler.value.abandon(id)?.fail(VouchClientError(.timeout, "no answer from vouchd within \(timeout)"))
        }
        channel.writeAndFlush(pending).whenFailure { error in
            promise.fail(VouchClientError(.connectionClosed, "cannot send to vouchd: \(Self.reason(error))"))
        }
        do {
            let response = try await promise.futureResult.get()
            timer.cancel()
            guard response.opcode == request.opcode.rawValue else {
                throw VouchClientError(.protocolViolation, "response to request \(id) has another opcode")
            }
            return response
        } catch let error as VouchClientError {
            timer.cancel()
            throw error
        } catch {
            timer.cancel()
            throw VouchClientError(.connectionClosed, Self.reason(error))
        }
    }

    static func reason(_ error: any Error) -> String {
        if let e = error as? IOError { return String(cString: strerror(e.errnoCode)) }
        if let e = error as? VouchClientError { return e.message }
        return "\(error)"
    }
}
