import NIOCore
import VouchProtocol
import VouchSecrets

/// What the frame decoder hands to the connection handler.
enum InboundFrame {
    case decoded(DecodedRequest)
    /// The length prefix exceeds the cap; nothing of the payload was buffered.
    case tooLarge(UInt32)
    /// A zero length prefix.
    case empty
}

/// Splits the byte stream into frames and decodes each request in place.
///
/// The length prefix is checked against the cap before any of the payload is
/// buffered.  A payload that carried a password or token is zeroed in the
/// receive buffer once decoded.  After an oversized or empty frame the stream
/// has no trustworthy frame boundary, so everything after it is discarded
/// (the handler closes the connection).
struct RequestFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = InboundFrame

    let maxFrameBytes: Int
    private var poisoned = false

    init(maxFrameBytes: Int) { self.maxFrameBytes = maxFrameBytes }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if poisoned {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        switch Frame.check(length: length, max: maxFrameBytes) {
        case .empty:
            poisoned = true
            buffer.moveReaderIndex(to: buffer.writerIndex)
            context.fireChannelRead(wrapInboundOut(.empty))
            return .needMoreData
        case .tooLarge(let n):
            poisoned = true
            buffer.moveReaderIndex(to: buffer.writerIndex)
            context.fireChannelRead(wrapInboundOut(.tooLarge(n)))
            return .needMoreData
        case .ok(let n):
            let total = Frame.lengthPrefixSize + n
            guard buffer.readableBytes >= total else { return .needMoreData }
            let decoded = buffer.withUnsafeReadableBytes { raw in
                RequestMessage.decode(payload: UnsafeRawBufferPointer(rebasing: raw[Frame.lengthPrefixSize..<total]))
            }
            if case .request(_, let request) = decoded, request.carriesSecret {
                buffer.withUnsafeMutableReadableBytes { raw in
                    SecretBytes.wipe(UnsafeMutableRawBufferPointer(rebasing: raw[0..<total]))
                }
            }
            buffer.moveReaderIndex(forwardBy: total)
            context.fireChannelRead(wrapInboundOut(.decoded(decoded)))
            return .continue
        }
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        // A partial frame at EOF is dropped: the client went away mid-request.
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}
