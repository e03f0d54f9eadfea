import NIOCore
import VouchProtocol
import VouchSecrets

/// One unit of input the connection acts on.
enum InboundFrame {
    case decoded(DecodedRequest)
    /// The length prefix exceeds the cap; nothing of the payload was buffered.
    case tooLarge(UInt32)
    /// A zero length prefix.
    case empty
}

/// Splits the byte stream into frames and decodes each request in place.
///
/// Plain state, no I/O: the connection handler feeds it what it read.  The
/// length prefix is checked against the cap before any of the payload is
/// buffered.  A request whose opcode the peer may not use is refused from
/// its header, before its body is decoded.  A payload whose opcode carries a
/// password or token is zeroed in the receive buffer once read, whether or
/// not it decoded.  After an oversized or empty frame the stream
/// has no trustworthy frame boundary, so everything after it is discarded
/// (the handler closes the connection).
struct RequestFramer {
    let maxFrameBytes: Int
    /// The peer is an admin (may use every opcode).
    let isAdmin: Bool
    private(set) var poisoned = false

    init(maxFrameBytes: Int, isAdmin: Bool = true) {
        self.maxFrameBytes = maxFrameBytes
        self.isAdmin = isAdmin
    }

    /// The next whole frame at the front of `buffer` (consumed), or nil when
    /// more bytes are needed.
    mutating func next(from buffer: inout ByteBuffer) -> InboundFrame? {
        if poisoned {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return nil
        }
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        switch Frame.check(length: length, max: maxFrameBytes) {
        case .empty:
            poisoned = true
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .empty
        case .tooLarge(let n):
            poisoned = true
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .tooLarge(n)
        case .ok(let n):
            let total = Frame.lengthPrefixSize + n
            guard buffer.readableBytes >= total else { return nil }
            let isAdmin = self.isAdmin
            let decoded = buffer.withUnsafeReadableBytes { raw in
                RequestMessage.decode(
                    payload: UnsafeRawBufferPointer(rebasing: raw[Frame.lengthPrefixSize..<total]),
                    permits: { Authorizer.allows($0, isAdmin: isAdmin) })
            }
            let opcodeIndex = buffer.readerIndex + Frame.lengthPrefixSize + 1
            if n > 1, let raw = buffer.getInteger(at: opcodeIndex, as: UInt8.self),
                Opcode(rawValue: raw)?.carriesSecret == true
            {
                buffer.withUnsafeMutableReadableBytes { raw in
                    SecretBytes.wipe(UnsafeMutableRawBufferPointer(rebasing: raw[0..<total]))
                }
            }
            buffer.moveReaderIndex(forwardBy: total)
            return .decoded(decoded)
        }
    }
}
