import Logging
import NIOCore
import VouchCore
import VouchProtocol

/// Caps open connections in total and per peer uid, keeping the last
/// `reserved` slots of the total for root and admins.  A connection over a
/// cap is answered one `limit exceeded` frame (request id 0) and closed.
final class ConnectionLimiter: Sendable {
    private struct Counts {
        var total = 0
        var perUID: [UInt32: Int] = [:]
    }

    let maxTotal: Int
    let maxPerUID: Int
    let reserved: Int
    private let counts = Locked(Counts())

    init(maxTotal: Int, maxPerUID: Int, reserved: Int = 0) {
        self.maxTotal = maxTotal
        self.maxPerUID = maxPerUID
        self.reserved = max(0, min(reserved, maxTotal - 1))
    }

    /// Why `uid` may not open another connection, or nil after counting it in
    /// (balance with `release`).  `privileged` peers (root, admins) may take
    /// the reserved slots.
    func admit(uid: UInt32, privileged: Bool = false) -> String? {
        counts.withLock { c in
            if maxTotal > 0, c.total >= maxTotal {
                return "too many connections (max \(maxTotal))"
            }
            if maxTotal > 0, !privileged, c.total >= maxTotal - reserved {
                return "too many connections (the last \(reserved) of \(maxTotal) are kept for administrators)"
            }
            if maxPerUID > 0, c.perUID[uid, default: 0] >= maxPerUID {
                return "too many connections from uid \(uid) (max \(maxPerUID))"
            }
            c.total += 1
            c.perUID[uid, default: 0] += 1
            return nil
        }
    }

    func release(uid: UInt32) {
        counts.withLock { c in
            c.total -= 1
            if let n = c.perUID[uid], n > 1 {
                c.perUID[uid] = n - 1
            } else {
                c.perUID[uid] = nil
            }
        }
    }

    var open: Int { counts.withLock { $0.total } }
}

/// Answers a refused connection with one `limit exceeded` frame and closes it.
final class RefuseConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let reason: String
    private var sent = false

    init(reason: String) { self.reason = reason }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { refuse(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        refuse(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Whatever the client sends is dropped.
    }

    private func refuse(context: ChannelHandlerContext) {
        guard !sent else { return }
        sent = true
        let frame = ResponseMessage.encodeFailure(id: 0, opcode: 0, status: .limitExceeded, message: reason)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(bytes: frame))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Logs what goes wrong accepting connections (EMFILE when out of
/// descriptors), counted per interval: NIO retries the accept and says nothing.
final class AcceptErrorLogger: ChannelInboundHandler, Sendable {
    typealias InboundIn = Any

    let repeats: RepeatLog
    init(repeats: RepeatLog) { self.repeats = repeats }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        repeats.note(
            .error, "cannot accept a connection: \(error)", event: "accept_failed", source: "listener",
            metadata: ["error": "\(error)"])
        context.fireErrorCaught(error)
    }
}
