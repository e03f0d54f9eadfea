import Logging
import NIOCore
import VouchProtocol

/// Limits a connection works under.
struct ConnectionLimits: Sendable {
    var maxFrameBytes: Int
    var maxRequestsInFlight: Int
}

/// The NIO glue for one client connection: decoded requests go to the
/// `Dispatcher`; its answers are written back, in whatever order they finish.
/// Writes are flushed once per read burst, so pipelined requests share a syscall.
final class ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = InboundFrame
    typealias OutboundIn = Never
    typealias OutboundOut = ByteBuffer

    private let dispatcher: Dispatcher
    private let peer: PeerContext
    private let limits: ConnectionLimits
    private let registry: ConnectionRegistry
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var inFlight: Set<UInt32> = []
    private var needsFlush = false
    private var readPending = false
    private var closing = false
    private var sink: DeferredResponseSink?
    private var pending: ByteBuffer?

    init(
        dispatcher: Dispatcher, peer: PeerContext, limits: ConnectionLimits, registry: ConnectionRegistry,
        logger: Logger
    ) {
        self.dispatcher = dispatcher
        self.peer = peer
        self.limits = limits
        self.registry = registry
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.sink = DeferredResponseSink(
            eventLoop: context.eventLoop, handler: NIOLoopBound(self, eventLoop: context.eventLoop))
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        registry.requestsFinished(inFlight.count)
        inFlight.removeAll()
        self.context = nil
        self.sink = nil
        self.pending = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .decoded(.request(let id, let request)):
            serve(id: id, request: request, context: context)
        case .decoded(.failure(let id, let opcode, let status, let message)):
            logger.debug("bad request", metadata: ["status": "\(status)", "peer_uid": "\(peer.credentials.uid)"])
            write(
                ResponseMessage.encodeFailure(id: id, opcode: opcode, status: status, message: message),
                context: context)
        case .tooLarge(let length):
            logger.notice(
                "frame too large; closing connection",
                metadata: [
                    "length": "\(length)", "cap": "\(limits.maxFrameBytes)", "peer_uid": "\(peer.credentials.uid)",
                ])
            closeAfterWriting(
                ResponseMessage.encodeFailure(
                    id: 0, opcode: 0, status: .frameTooLarge,
                    message: "frame of \(length) bytes exceeds the cap of \(limits.maxFrameBytes)"),
                context: context)
        case .empty:
            closeAfterWriting(
                ResponseMessage.encodeFailure(id: 0, opcode: 0, status: .badRequest, message: "zero-length frame"),
                context: context)
        }
    }

    private func serve(id: UInt32, request: Request, context: ChannelHandlerContext) {
        let op = request.opcode
        if inFlight.contains(id) {
            write(Dispatcher.failure(id, op, .badRequest, "duplicate request id \(id)"), context: context)
            return
        }
        if inFlight.count >= limits.maxRequestsInFlight {
            write(
                Dispatcher.failure(
                    id, op, .limitExceeded, "too many requests in flight (max \(limits.maxRequestsInFlight))"),
                context: context)
            return
        }
        switch dispatcher.handle(id: id, request: request, peer: peer, sink: sink!) {
        case .reply(let frame):
            write(frame, context: context)
        case .deferred:
            inFlight.insert(id)
            registry.requestStarted()
        }
    }

    /// A worker finished a deferred request (called on the event loop).
    func finish(_ frame: [UInt8], requestID: UInt32) {
        guard inFlight.remove(requestID) != nil else { return }
        registry.requestsFinished(1)
        guard let context, !closing else { return }
        write(frame, context: context)
        flushIfNeeded(context: context)
    }

    /// Answers are gathered into one buffer until the flush: a read burst of
    /// pipelined requests becomes one buffer and one write in the pipeline.
    private func write(_ frame: [UInt8], context: ChannelHandlerContext) {
        dispatcher.metrics.requestsServed.add(1, ordering: .relaxed)
        if pending == nil {
            pending = context.channel.allocator.buffer(capacity: max(frame.count, 256))
        }
        pending!.writeBytes(frame)
        needsFlush = true
    }

    private func emitPending(context: ChannelHandlerContext) {
        if let buffer = pending {
            pending = nil
            context.write(wrapOutboundOut(buffer), promise: nil)
        }
    }

    private func flushIfNeeded(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            emitPending(context: context)
            context.flush()
        }
    }

    private func closeAfterWriting(_ frame: [UInt8], context: ChannelHandlerContext) {
        guard !closing else { return }
        closing = true
        write(frame, context: context)
        emitPending(context: context)
        needsFlush = false
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushIfNeeded(context: context)
        context.fireChannelReadComplete()
    }

    // Backpressure: a client that does not read its responses stops being read
    // from, so its buffered output stays bounded by the write-buffer water mark.
    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            context.read()
        } else {
            readPending = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, readPending {
            readPending = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error", metadata: ["error": "\(error)", "peer_uid": "\(peer.credentials.uid)"])
        context.close(promise: nil)
    }
}

/// Hands worker-thread results back to the connection's event loop.
final class DeferredResponseSink: ResponseSink {
    private let eventLoop: any EventLoop
    private let handler: NIOLoopBound<ConnectionHandler>

    init(eventLoop: any EventLoop, handler: NIOLoopBound<ConnectionHandler>) {
        self.eventLoop = eventLoop
        self.handler = handler
    }

    func deliver(_ frame: [UInt8], requestID: UInt32) {
        let handler = self.handler
        eventLoop.execute { handler.value.finish(frame, requestID: requestID) }
    }
}
