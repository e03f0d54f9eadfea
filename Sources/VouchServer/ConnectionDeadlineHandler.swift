import Logging
import NIOCore

/// Closes connections that hold resources without making progress:
///
/// - **idle**: no request for `idleTimeout` while nothing is in flight and no
///   frame is partly received (a connection waiting for a slow login is not
///   idle).  Pings are keepalives, not requests: a connection that only pings
///   still ends at `idleTimeout` and gives its slot back;
/// - **slow frame**: a frame whose first byte arrived more than `frameTimeout`
///   ago is still incomplete (a slowloris client sending a byte a second);
/// - **condemned**: after an empty or oversized length prefix the connection
///   answers and the connection is to close once that answer is written.  A
///   client that never reads would keep it open forever, the daemon
///   discarding whatever it streams: so nothing more is read, and the
///   connection is closed after `condemnedGrace` whether or not the answer went out.
///
/// Sits first in the pipeline and watches the raw bytes: it follows the
/// length prefixes to know where frames end, and counts response frames on
/// the way out (every request frame gets exactly one response).  It never
/// changes the bytes.  The timer is re-armed only when it fires, or when a
/// read leaves a frame incomplete, so busy connections cost no timer work.
final class ConnectionDeadlineHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let idleTimeout: TimeAmount?
    private let frameTimeout: TimeAmount
    private let maxFrameBytes: Int
    private let logger: Logger
    private let peerUID: UInt32

    private var header: UInt32 = 0
    private var headerBytes = 0
    private var remaining = 0
    /// Length of the frame being followed, and its opcode once seen.
    private var frameLength = 0
    private var frameOpcode: UInt8?
    private var tracking = true
    private var condemned = false
    static let condemnedGrace = TimeAmount.seconds(2)
    private var requests = 0
    private var responses = 0
    private var frameStartedAt: NIODeadline?
    private var lastActivity = NIODeadline.uptimeNanoseconds(0)
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?

    /// `idleTimeout` nil or zero: never closed for idleness.  The frame
    /// timeout is always on.
    init(idleTimeout: TimeAmount?, frameTimeout: TimeAmount, maxFrameBytes: Int, peerUID: UInt32, logger: Logger) {
        self.idleTimeout = idleTimeout.flatMap { $0.nanoseconds > 0 ? $0 : nil }
        self.frameTimeout = frameTimeout
        self.maxFrameBytes = maxFrameBytes
        self.peerUID = peerUID
        self.logger = logger
    }

    /// The frame deadline the daemon uses: the idle timeout, at most 10 seconds
    /// (a 64 KiB frame over a local socket takes microseconds).
    static func frameTimeout(idleTimeout: TimeAmount?) -> TimeAmount {
        let cap = TimeAmount.seconds(10)
        guard let idleTimeout, idleTimeout.nanoseconds > 0 else { return cap }
        return min(idleTimeout, cap)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        lastActivity = context.eventLoop.now
        arm(context: context, at: nextCheck(now: lastActivity))
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if condemned { return }  // the connection would discard it anyway
        let buffer = unwrapInboundIn(data)
        let now = context.eventLoop.now
        if tracking { follow(buffer, now: now) } else { lastActivity = now }
        if condemned {
            arm(context: context, at: now + Self.condemnedGrace)
            context.fireChannelRead(data)
            return
        }
        if let started = frameStartedAt, let armed = timerDeadline, armed > started + frameTimeout {
            arm(context: context, at: started + frameTimeout)
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        if !condemned { context.read() }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let (frames, work) = Self.countFrames(unwrapOutboundIn(data))
        if frames > 0 {
            responses += frames
            if work > 0, responses >= requests { lastActivity = context.eventLoop.now }
        }
        context.write(data, promise: promise)
    }

    /// Response frames in an outbound buffer, and those answering requests
    /// other than keepalives.  The connection writes whole frames only,
    /// several per buffer when requests were pipelined.
    static func countFrames(_ buffer: ByteBuffer) -> (frames: Int, work: Int) {
        var offset = buffer.readerIndex
        var frames = 0
        var work = 0
        while let length = buffer.getInteger(at: offset, as: UInt32.self) {
            let opcode = length >= 2 ? buffer.getInteger(at: offset + 5, as: UInt8.self) : nil
            if !isKeepalive(opcode) { work += 1 }
            offset += 4 + Int(length)
            frames += 1
        }
        return (frames, work)
    }

    /// A ping (opcode 0x02; the second payload byte of a request or response).
    static func isKeepalive(_ opcode: UInt8?) -> Bool { opcode == 0x02 }

    /// Follows frame boundaries through `buffer`: a length prefix (possibly
    /// split across reads) is gathered byte by byte, a payload is skipped whole.
    private func follow(_ buffer: ByteBuffer, now: NIODeadline) {
        var offset = buffer.readerIndex
        let end = buffer.writerIndex
        while offset < end {
            if remaining == 0 {
                if headerBytes == 0 { frameStartedAt = now }
                if headerBytes == 0, end - offset >= 4, let length = buffer.getInteger(at: offset, as: UInt32.self) {
                    header = length
                    headerBytes = 4
                    offset += 4
                } else {
                    header = header << 8 | UInt32(buffer.getInteger(at: offset, as: UInt8.self)!)
                    headerBytes += 1
                    offset += 1
                }
                guard headerBytes == 4 else { continue }
                let length = header
                header = 0
                headerBytes = 0
                guard length > 0, UInt64(length) <= UInt64(maxFrameBytes) else {
                    // The connection answers and closes; nothing more to follow.
                    tracking = false
                    condemned = true
                    frameStartedAt = nil
                    return
                }
                remaining = Int(length)
                frameLength = Int(length)
                frameOpcode = nil
            } else {
                let n = min(remaining, end - offset)
                let seen = frameLength - remaining
                if seen <= 1, 1 < seen + n { frameOpcode = buffer.getInteger(at: offset + 1 - seen, as: UInt8.self) }
                offset += n
                remaining -= n
                if remaining == 0 {
                    requests += 1
                    frameStartedAt = nil
                    if !Self.isKeepalive(frameOpcode) { lastActivity = now }
                }
            }
        }
    }

    private var inFlight: Int { max(0, requests - responses) }

    /// When the timer should next look: the frame deadline if a frame is
    /// incomplete, else the idle deadline if nothing is in flight, else a
    /// re-check one idle period (or frame timeout) later.
    private func nextCheck(now: NIODeadline) -> NIODeadline {
        if let started = frameStartedAt { return started + frameTimeout }
        if let idleTimeout {
            return inFlight == 0 ? lastActivity + idleTimeout : now + idleTimeout
        }
        return now + frameTimeout
    }

    private func arm(context: ChannelHandlerContext, at deadline: NIODeadline) {
        timer?.cancel()
        timerDeadline = deadline
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.check(context: context)
        }
    }

    private func check(context: ChannelHandlerContext) {
        timer = nil
        timerDeadline = nil
        guard context.channel.isActive else { return }
        let now = context.eventLoop.now
        if condemned {
            logger.debug("closing a connection after a bad length prefix", metadata: ["peer_uid": "\(peerUID)"])
            context.close(promise: nil)
            return
        }
        if let started = frameStartedAt, now >= started + frameTimeout {
            logger.notice(
                "frame not completed in time; closing connection",
                metadata: [
                    "event": "slow_frame", "peer_uid": "\(peerUID)",
                    "timeout_ms": "\(frameTimeout.nanoseconds / 1_000_000)",
                ])
            context.close(promise: nil)
            return
        }
        if let idleTimeout, frameStartedAt == nil, inFlight == 0, now >= lastActivity + idleTimeout {
            logger.debug(
                "idle connection closed",
                metadata: ["peer_uid": "\(peerUID)", "idle_ms": "\(idleTimeout.nanoseconds / 1_000_000)"])
            context.close(promise: nil)
            return
        }
        arm(context: context, at: nextCheck(now: now))
    }
}
