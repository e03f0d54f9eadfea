import FoundationEssentials
import Logging
import NIOCore

/// Splits the byte stream into Varlink messages (each ends with a NUL).
/// A message longer than `maxBytes` is an error that closes the connection.
struct VarlinkMessageDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    let maxBytes: Int

    struct TooLarge: Error {}

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let end = buffer.readableBytesView.firstIndex(of: 0) else {
            if buffer.readableBytes > maxBytes { throw TooLarge() }
            return .needMoreData
        }
        let length = end - buffer.readableBytesView.startIndex
        guard length <= maxBytes, let message = buffer.readSlice(length: length) else { throw TooLarge() }
        buffer.moveReaderIndex(forwardBy: 1)
        context.fireChannelRead(wrapInboundOut(message))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// One io.systemd.UserDatabase connection: calls are answered in order;
/// an enumeration is written as the peer reads it (never more than the
/// channel's write buffer ahead).  The connection is closed when no call
/// arrives and nothing is read for `deadline`, and on any malformed message.
final class UserdbConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let responder: UserdbResponder
    let privileged: Bool
    let deadline: TimeAmount
    let logger: Logger
    /// Calls waiting behind an enumeration in progress.
    private var queued: [VarlinkCall] = []
    private var stream: UserdbStream?
    private var timer: Scheduled<Void>?
    static let maxQueued = 16

    init(responder: UserdbResponder, privileged: Bool, deadline: TimeAmount, logger: Logger) {
        self.responder = responder
        self.privileged = privileged
        self.deadline = deadline
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        armTimer(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = unwrapInboundIn(data)
        guard let call = try? JSONDecoder().decode(VarlinkCall.self, from: Data(message.readableBytesView)) else {
            logger.debug("userdb: malformed Varlink message; closing")
            context.close(promise: nil)
            return
        }
        armTimer(context)
        // Answered in order: behind an enumeration still being written, and behind the calls queued before it.
        guard queued.count < Self.maxQueued else {
            context.close(promise: nil)
            return
        }
        queued.append(call)
        pump(context)
        context.flush()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            armTimer(context)
            pump(context)
            context.flush()
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is VarlinkMessageDecoder.TooLarge {
            logger.notice("userdb: Varlink message too large; closing", metadata: ["event": "userdb_frame_too_large"])
        }
        context.close(promise: nil)
    }

    private func start(_ call: VarlinkCall, _ context: ChannelHandlerContext) {
        let answer = responder.answer(call, privileged: privileged)
        if call.oneway == true { return }
        switch answer {
        case .frames(let frames):
            for frame in frames { write(frame, context) }
        case .stream(let s):
            stream = s
        }
    }

    /// Writes an enumeration's records while the channel takes them, then
    /// answers the queued calls in order, until one streams more than the
    /// channel takes or none is left.
    private func pump(_ context: ChannelHandlerContext) {
        while true {
            if var s = stream {
                while context.channel.isWritable, let frame = s.nextFrame() { write(frame, context) }
                if !s.isFinished {
                    stream = s
                    return
                }
                stream = nil
            }
            guard !queued.isEmpty else { return }
            start(queued.removeFirst(), context)
        }
    }

    private func write(_ frame: [UInt8], _ context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: frame)), promise: nil)
    }

    private func armTimer(_ context: ChannelHandlerContext) {
        timer?.cancel()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: deadline) { [logger] in
            logger.debug("userdb: connection deadline passed; closing")
            loopBound.value.close(promise: nil)
        }
    }
}
