import NIOCore
import VouchProtocol

/// An outgoing request with the promise its response fulfils.
struct PendingRequest {
    let id: UInt32
    let frame: [UInt8]
    let promise: EventLoopPromise<ResponseMessage>
}

/// Splits response frames, capped before buffering.
struct ResponseFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    let maxFrameBytes: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        switch Frame.check(length: length, max: maxFrameBytes) {
        case .empty: throw VouchClientError(.protocolViolation, "the daemon sent a zero-length frame")
        case .tooLarge(let n): throw VouchClientError(.protocolViolation, "the daemon sent a frame of \(n) bytes")
        case .ok(let n):
            guard buffer.readableBytes >= Frame.lengthPrefixSize + n else { return .needMoreData }
            buffer.moveReaderIndex(forwardBy: Frame.lengthPrefixSize)
            context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: n)!))
            return .continue
        }
    }
}

/// Matches responses to requests by id; responses may arrive in any order.
final class ClientChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = PendingRequest
    typealias OutboundOut = ByteBuffer

    private var pending: [UInt32: EventLoopPromise<ResponseMessage>] = [:]

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        pending[request.id] = request.promise
        context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: request.frame)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let payload = unwrapInboundIn(data)
        do {
            let response = try payload.withUnsafeReadableBytes { try ResponseMessage.decode(payload: $0) }
            if let promise = pending.removeValue(forKey: response.id) {
                promise.succeed(response)
            } else if response.id == 0 && response.status != .ok {
                // A connection-level error (frame too large, bad frame): fail everything.
                failAll(VouchClientError(.refused(response.status), response.message))
            }
        } catch {
            failAll(VouchClientError(.protocolViolation, "undecodable response: \(error)"))
            context.close(promise: nil)
        }
    }

    /// Forgets a request that timed out.
    func abandon(_ id: UInt32) -> EventLoopPromise<ResponseMessage>? { pending.removeValue(forKey: id) }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(VouchClientError(.connectionClosed, "the daemon closed the connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error as? VouchClientError ?? VouchClientError(.connectionClosed, "connection error: \(error)"))
        context.close(promise: nil)
    }

    private func failAll(_ error: VouchClientError) {
        let promises = pending
        pending.removeAll()
        for (_, p) in promises { p.fail(error) }
    }
}
