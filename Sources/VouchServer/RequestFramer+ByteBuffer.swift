import NIOCore
import VouchProtocol
import VouchSecrets

extension RequestFramer {
    /// The next whole frame at the front of `buffer` (consumed, and zeroed
    /// if it holds a secret), or nil when more bytes are needed.
    mutating func next(from buffer: inout ByteBuffer) -> InboundFrame? {
        var framer = self
        let cut = buffer.withUnsafeReadableBytes { framer.next(from: $0) }
        self = framer
        if cut.wipe {
            buffer.withUnsafeMutableReadableBytes { raw in
                SecretBytes.wipe(UnsafeMutableRawBufferPointer(rebasing: raw[0..<cut.consumed]))
            }
        }
        buffer.moveReaderIndex(forwardBy: cut.consumed)
        return cut.frame
    }
}
