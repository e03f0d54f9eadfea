/// Framing: a 4-byte big-endian length, then that many bytes of payload.
///
/// A request payload is `u8 version, u8 opcode, u32 request_id, body`.
/// A response payload is `u8 version, u8 opcode, u32 request_id, u16 status, body`.
/// The first six bytes keep this layout in every protocol version, so a
/// daemon can always answer "unsupported version" to the right request.
public enum Frame {
    public static let protocolVersion: UInt8 = 1
    public static let minProtocolVersion: UInt8 = 1
    public static let lengthPrefixSize = 4
    public static let requestHeaderSize = 6
    public static let responseHeaderSize = 8
    public static let defaultMaxBytes = 64 * 1024

    public enum LengthCheck: Equatable, Sendable {
        case ok(Int)
        case empty
        case tooLarge(UInt32)
    }

    /// Checks a length prefix against the cap before anything is buffered.
    public static func check(length: UInt32, max: Int) -> LengthCheck {
        if length == 0 { return .empty }
        if UInt64(length) > UInt64(max) { return .tooLarge(length) }
        return .ok(Int(length))
    }

    /// Reads the length prefix at the start of `bytes`, if four bytes are there.
    public static func lengthPrefix(_ bytes: UnsafeRawBufferPointer) -> UInt32? {
        guard bytes.count >= 4 else { return nil }
        return UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8
            | UInt32(bytes[3])
    }
}
