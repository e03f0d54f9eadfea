import Logging
import NIOCore
import VouchProtocol
import VouchSecrets

/// Limits a connection works under.
struct ConnectionLimits: Sendable {
    var maxFrameBytes: Int
    var maxRequestsInFlight: Int
    var timeouts = ConnectionStateMachine.Timeouts(idle: nil)
}

/// The NIO glue for one client connection, and the only glue: it cuts the
/// byte stream into requests with its `RequestFramer` (the server's one
/// framer), feeds events to its `ConnectionStateMachine`, and carries out
/// the actions it returns: dispatching, writing, arming the deadline timer,
/// pausing and resuming reading, and closing.  Requests go to the
/// `Dispatcher`; answers are written back in whatever order they finish.
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
    private var machine: ConnectionStateMachine
    private var framer: RequestFramer
    /// The start of a frame whose end has not arrived yet.
    private var partial: ByteBuffer?
    private var context: ChannelHandlerContext?
    private var output = WireWriter(capacity: 1024)
    /// The output holds an answer computed on a worker (it may carry a new token).
    private var outputFromWorker = false
    private var timer: Scheduled<Void>?
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
        self.machine = ConnectionStateMachine(
            timeouts: limits.timeouts, maxRequestsInFlight: limits.maxRequestsInFlight, now: .uptimeNanoseconds(0))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.sink = DeferredResponseSink(
            eventLoop: context.eventLoop, handler: NIOLoopBound(self, eventLoop: context.eventLoop))
        arm(at: machine.channelActive(now: context.eventLoop.now), context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        tearDown()
        if let sink { dispatcher.connectionClosed(sink) }
        self.context = nil
        self.sink = nil
        dropPartial()
        output.wipe()
    }

    func channelInactive(context: ChannelHandlerContext) {
        tearDown()
        context.fireChannelInactive()
    }

    private func tearDown() {
        timer?.cancel()
        timer = nil
        registry.requestsFinished(machine.channelInactive())
    }

    // MARK: - Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard machine.isOpen else { return }  // condemned: whatever follows is discarded
        var buffer = unwrapInboundIn(data)
        if var earlier = partial {
            partial = nil
            earlier.writeBuffer(&buffer)
            buffer = earlier
        }
        let now = context.eventLoop.now
        while machine.isOpen, let frame = framer.next(from: &buffer) {
            act(on: frame, now: now, context: context)
        }
        // A partial frame at EOF is dropped: the client went away mid-request.
        if machine.isOpen, buffer.readableBytes > 0 {
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

    private func act(on frame: InboundFrame, now: NIODeadline, context: ChannelHandlerContext) {
        switch frame {
        case .decoded(.request(let id, let request)):
            machine.frameReceived(keepalive: request.opcode == .ping, now: now)
            switch machine.requestDecoded(id: id) {
            case .dispatch:
                serve(id: id, request: request)
            case .refuse(let status, let message, _):
                appendFailure(id: id, opcode: request.opcode.rawValue, status: status, message: message)
            case .drop:
                return
            }
        case .decoded(.denied(let id, let opcode)):
            machine.frameReceived(keepalive: false, now: now)
            answered()
            Dispatcher.append(id, opcode, dispatcher.denial(opcode, peer: peer), to: &output)
        case .decoded(.failure(let id, let opcode, let status, let message)):
            machine.frameReceived(keepalive: opcode == Opcode.ping.rawValue, now: now)
            logger.debug("bad request", metadata: ["status": "\(status)", "peer_uid": "\(peer.credentials.uid)"])
            appendFailure(id: id, opcode: opcode, status: status, message: message)
            // Request id 0 is a connection-level error (a payload shorter than
            // a header, or the reserved id): answered, then the connection closes.
            if id == RequestMessage.reservedID { condemn(now: now, context: context) }
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
            condemn(now: now, context: context)
        case .empty:
            appendFailure(
                id: 0, opcode: 0, status: .badRequest,
                message: "frame of 0 bytes is shorter than a request header (6 bytes)")
            condemn(now: now, context: context)
        }
    }

    private func serve(id: UInt32, request: Request) {
        let outcome = dispatcher.handle(id: id, request: request, peer: peer, sink: sink!)
        switch outcome {
        case .deferred:
            machine.requestDeferred(id: id)
            registry.requestStarted()
            return
        case .failure(let status, _):
            machine.requestAnswered(refusedForLoad: status == .busy || status == .rateLimited)
        case .reply:
            machine.requestAnswered(refusedForLoad: false)
        }
        answered()
        Dispatcher.append(id, request.opcode, outcome, to: &output)
    }

    /// A worker finished a deferred request (called on the event loop).
    func finish(_ frame: [UInt8], requestID: UInt32) {
        guard let context else { return }
        let action = machine.workerFinished(id: requestID, now: context.eventLoop.now)
        if action != .unknownRequest { registry.requestsFinished(1) }
        guard action == .write else { return }
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

    func channelReadComplete(context: ChannelHandlerContext) {
        let action = machine.readComplete(incompleteFrame: partial != nil, now: context.eventLoop.now)
        if let deadline = action.armTimer { arm(at: deadline, context: context) }
        if action.flush { flushOutput(context: context) }
        if let until = action.pauseReadingUntil {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(deadline: until) {
                let (handler, context) = loopBound.value
                guard handler.context != nil else { return }
                if handler.machine.pauseEnded(at: until, isWritable: context.channel.isWritable) { context.read() }
            }
        }
        context.fireChannelReadComplete()
    }

    // MARK: - Writing and closing

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

    /// After a bad frame: nothing more is read; the answer is written, then
    /// the connection closes (or at the grace deadline if the peer does not read).
    private func condemn(now: NIODeadline, context: ChannelHandlerContext) {
        guard let deadline = machine.condemn(now: now) else { return }
        arm(at: deadline, context: context)
        dropPartial()
        _ = emitOutput(context: context)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    private func arm(at deadline: NIODeadline, context: ChannelHandlerContext) {
        timer?.cancel()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.timerFired(context: context)
        }
    }

    private func timerFired(context: ChannelHandlerContext) {
        timer = nil
        guard self.context != nil, context.channel.isActive else { return }
        switch machine.timerFired(now: context.eventLoop.now) {
        case .none:
            return
        case .arm(let deadline):
            arm(at: deadline, context: context)
        case .close(let reason):
            log(closing: reason)
            context.close(promise: nil)
        }
    }

    private func log(closing reason: ConnectionStateMachine.CloseReason) {
        let uid = "\(peer.credentials.uid)"
        switch reason {
        case .slowFrame:
            logger.notice(
                "frame not completed in time; closing connection",
                metadata: [
                    "event": "slow_frame", "peer_uid": "\(uid)",
                    "timeout_ms": "\(limits.timeouts.frame.nanoseconds / 1_000_000)",
                ])
        case .idle:
            logger.debug(
                "idle connection closed",
                metadata: [
                    "peer_uid": "\(uid)", "idle_ms": "\((limits.timeouts.idle?.nanoseconds ?? 0) / 1_000_000)",
                ])
        case .condemned, .condemnedAnswerNotRead:
            logger.debug("closing a connection after a bad frame", metadata: ["peer_uid": "\(uid)"])
        }
    }

    // MARK: - Back-pressure

    // A client that does not read its responses stops being read from, so its
    // buffered output stays bounded by the write-buffer water mark; reading
    // also pauses after requests refused for load, and stops once condemned.
    func read(context: ChannelHandlerContext) {
        if machine.readRequested(isWritable: context.channel.isWritable) { context.read() }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if machine.writabilityChanged(isWritable: context.channel.isWritable) { context.read() }
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
