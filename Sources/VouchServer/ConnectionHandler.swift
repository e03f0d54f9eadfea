import Logging
import NIOCore
import VouchProtocol
import VouchSecrets

/// Limits a connection works under.
struct ConnectionLimits: Sendable {
    var maxFrameBytes: Int
    var maxRequestsInFlight: Int
}

/// The NIO glue for one client connection: frames are cut and decoded by
/// its `RequestFramer`, requests go to the `Dispatcher`, and answers are
/// written back in whatever order they finish.
///
/// Answers given at once are encoded straight into one output buffer that
/// lives as long as the connection; it is handed to the channel once per
/// read burst, so pipelined requests share one buffer and one syscall.
final class ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Never
    typealias OutboundOut = ByteBuffer

    private let dispatcher: Dispatcher
    private let peer: PeerContext
    private let limits: ConnectionLimits
    private let registry: ConnectionRegistry
    private let logger: Logger
    private var framer: RequestFramer
    /// The start of a frame whose end has not arrived yet.
    private var partial: ByteBuffer?
    private var context: ChannelHandlerContext?
    private var inFlight: Set<UInt32> = []
    private var output = WireWriter(capacity: 1024)
    /// The output holds an answer computed on a worker (it may carry a new token).
    private var outputFromWorker = false
    private var readPending = false
    /// Requests of the current read burst refused for load (busy, rate
    /// limited, too many in flight), and how many bursts in a row had some.
    private var refusedInBurst = 0
    private var refusingBursts = 0
    /// Reading is paused until then (a client re-sending refused requests at once).
    private var pausedUntil: NIODeadline?
    private var closing = false
    private var sink: DeferredResponseSink?

    init(
        dispatcher: Dispatcher, peer: PeerContext, limits: ConnectionLimits, registry: ConnectionRegistry,
        logger: Logger
    ) {
        self.dispatcher = dispatcher
        self.peer = peer
        self.limits = limits
        self.registry = registry
        self.logger = logger
        self.framer = RequestFramer(maxFrameBytes: limits.maxFrameBytes, isAdmin: peer.isAdmin)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.sink = DeferredResponseSink(
            eventLoop: context.eventLoop, handler: NIOLoopBound(self, eventLoop: context.eventLoop))
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if let sink { dispatcher.connectionClosed(sink) }
        registry.requestsFinished(inFlight.count)
        inFlight.removeAll()
        self.context = nil
        self.sink = nil
        dropPartial()
        output.wipe()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        var buffer = unwrapInboundIn(data)
        if var earlier = partial {
            partial = nil
            earlier.writeBuffer(&buffer)
            buffer = earlier
        }
        while !closing, let frame = framer.next(from: &buffer) {
            act(on: frame, context: context)
        }
        // A partial frame at EOF is dropped: the client went away mid-request.
        if !closing, buffer.readableBytes > 0 {
            buffer.discardReadBytes()
            partial = buffer
        }
    }

    /// Forgets an incomplete frame, zeroing it first: it may hold the start of
    /// a password (complete frames are zeroed by the framer once decoded).
    private func dropPartial() {
        guard var buffer = partial else { return }
        partial = nil
        buffer.withUnsafeMutableReadableBytes { SecretBytes.wipe($0) }
    }

    private func act(on frame: InboundFrame, context: ChannelHandlerContext) {
        switch frame {
        case .decoded(.request(let id, let request)):
            serve(id: id, request: request, context: context)
        case .decoded(.denied(let id, let opcode)):
            answered()
            Dispatcher.append(id, opcode, dispatcher.denial(opcode, peer: peer), to: &output)
        case .decoded(.failure(let id, let opcode, let status, let message)):
            logger.debug("bad request", metadata: ["status": "\(status)", "peer_uid": "\(peer.credentials.uid)"])
            appendFailure(id: id, opcode: opcode, status: status, message: message)
            // Request id 0 is a connection-level error (a payload shorter than
            // a header, or the reserved id): answered, then the connection closes.
            if id == RequestMessage.reservedID { closeAfterWriting(context: context) }
        case .tooLarge(let length):
            dispatcher.repeats.note(
                .notice, "frame too large; closing connection", event: "frame_too_large",
                source: "uid \(peer.credentials.uid)",
                metadata: [
                    "length": "\(length)", "cap": "\(limits.maxFrameBytes)", "peer_uid": "\(peer.credentials.uid)",
                ])
            appendFailure(
                id: 0, opcode: 0, status: .frameTooLarge,
                message: "frame of \(length) bytes exceeds the cap of \(limits.maxFrameBytes)")
            closeAfterWriting(context: context)
        case .empty:
            appendFailure(
                id: 0, opcode: 0, status: .badRequest,
                message: "frame of 0 bytes is shorter than a request header (6 bytes)")
            closeAfterWriting(context: context)
        }
    }

    private func serve(id: UInt32, request: Request, context: ChannelHandlerContext) {
        let op = request.opcode
        if inFlight.contains(id) {
            appendFailure(id: id, opcode: op.rawValue, status: .badRequest, message: "duplicate request id \(id)")
            return
        }
        if inFlight.count >= limits.maxRequestsInFlight {
            refusedInBurst += 1
            appendFailure(
                id: id, opcode: op.rawValue, status: .limitExceeded,
                message: "too many requests in flight (max \(limits.maxRequestsInFlight))")
            return
        }
        let outcome = dispatcher.handle(id: id, request: request, peer: peer, sink: sink!)
        if case .deferred = outcome {
            inFlight.insert(id)
            registry.requestStarted()
        } else {
            if case .failure(let status, _) = outcome, status == .busy || status == .rateLimited { refusedInBurst += 1 }
            answered()
            Dispatcher.append(id, op, outcome, to: &output)
        }
    }

    /// A worker finished a deferred request (called on the event loop).
    func finish(_ frame: [UInt8], requestID: UInt32) {
        guard inFlight.remove(requestID) != nil else { return }
        registry.requestsFinished(1)
        guard let context, !closing else { return }
        answered()
        output.raw(frame)
        outputFromWorker = true
        flushOutput(context: context)
    }

    private func appendFailure(id: UInt32, opcode: UInt8, status: Status, message: String) {
        answered()
        ResponseMessage.appendFailure(id: id, opcode: opcode, status: status, message: message, to: &output)
    }

    private func answered() {
        dispatcher.metrics.requestsServed.add(1, ordering: .relaxed)
    }

    /// Hands the output gathered so far to the channel as one buffer.
    private func emitOutput(context: ChannelHandlerContext) -> Bool {
        guard output.count > 0 else { return false }
        var buffer = context.channel.allocator.buffer(capacity: output.count)
        buffer.writeBytes(output.bytes)
        if outputFromWorker {
            outputFromWorker = false
            output.wipe()
        } else {
            output.reset()
        }
        context.write(wrapOutboundOut(buffer), promise: nil)
        return true
    }

    private func flushOutput(context: ChannelHandlerContext) {
        if emitOutput(context: context) { context.flush() }
    }

    private func closeAfterWriting(context: ChannelHandlerContext) {
        guard !closing else { return }
        closing = true
        dropPartial()
        _ = emitOutput(context: context)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushOutput(context: context)
        backOff(context: context)
        context.fireChannelReadComplete()
    }

    /// A client whose requests were refused for load and that sends more at
    /// once would keep the event loop answering `busy` at full speed, at the
    /// expense of every other connection: after each read burst with such
    /// refusals, reading pauses 1 ms, doubling with each such burst in a row
    /// up to `maxPause`; a burst without one ends the back-off.
    static let maxPause = TimeAmount.milliseconds(128)

    private func backOff(context: ChannelHandlerContext) {
        defer { refusedInBurst = 0 }
        guard refusedInBurst > 0 else {
            refusingBursts = 0
            return
        }
        refusingBursts = min(refusingBursts + 1, 8)
        let pause = min(Self.maxPause, .milliseconds(1 << (refusingBursts - 1)))
        let until = context.eventLoop.now + pause
        pausedUntil = until
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(deadline: until) {
            let (handler, context) = loopBound.value
            handler.resume(context: context, at: until)
        }
    }

    private func resume(context: ChannelHandlerContext, at deadline: NIODeadline) {
        guard pausedUntil == deadline, self.context != nil else { return }
        pausedUntil = nil
        if readPending, context.channel.isWritable {
            readPending = false
            context.read()
        }
    }

    // Backpressure: a client that does not read its responses stops being read
    // from, so its buffered output stays bounded by the write-buffer water mark.
    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable, pausedUntil == nil {
            context.read()
        } else {
            readPending = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, readPending, pausedUntil == nil {
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
