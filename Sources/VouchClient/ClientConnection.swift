import NIOCore
import NIOPosix
import VouchProtocol

/// One channel to vouchd and its response matcher.
struct Connection: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<ClientChannelHandler>

    enum Sent {
        /// The frame was written; the future gets the response (or the reason there is none).
        case sent(EventLoopFuture<ResponseMessage>)
        /// The frame was not written (the connection was closed): sending it again is safe.
        case notSent(String)
    }

    static func open(
        socketPath: String, timeout: Duration, maxReplyBytes: Int, group: any EventLoopGroup
    ) async throws(VouchClientError) -> Connection {
        do {
            return try await ClientBootstrap(group: group)
                .connectTimeout(TimeAmount(timeout))
                .connect(unixDomainSocketPath: socketPath) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = ClientChannelHandler()
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(ResponseFrameDecoder(maxFrameBytes: maxReplyBytes)))
                        try channel.pipeline.syncOperations.addHandler(handler)
                        return Connection(
                            channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
                    }
                }
        } catch {
            throw VouchClientError(
                .unreachable, "cannot connect to vouchd at \(socketPath): \(VouchClient.reason(error))")
        }
    }

    /// Writes one request frame and arms its timeout.
    func send(id: UInt32, frame: [UInt8], timeout: Duration) async -> Sent {
        let loop = channel.eventLoop
        let promise = loop.makePromise(of: ResponseMessage.self)
        let handler = self.handler
        do {
            try await channel.writeAndFlush(PendingRequest(id: id, frame: frame, promise: promise)).get()
        } catch {
            loop.execute { _ = handler.value.abandon(id) }
            promise.fail(VouchClientError(.connectionClosed, "not sent"))
            return .notSent(VouchClient.reason(error))
        }
        let timer = loop.scheduleTask(
            in: TimeAmount(timeout)
        ) {
            handler.value.abandon(id)?.fail(VouchClientError(.timeout, "no answer from vouchd within \(timeout)"))
        }
        promise.futureResult.whenComplete { _ in timer.cancel() }
        return .sent(promise.futureResult)
    }
}
