import VouchSecrets

/// Why a body could not be decoded.  The message names the field, never its value.
public struct WireDecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Reads big-endian wire values from a borrowed buffer.  Every read checks
/// the remaining length; nothing is ever read past the end.
public struct WireReader {
    public let buffer: UnsafeRawBufferPointer
    public private(set) var offset: Int

    public init(_ buffer: UnsafeRawBufferPointer, offset: Int = 0) {
        self.buffer = buffer
        self.offset = offset
    }

    public var remaining: Int { buffer.count - offset }

    mutating func take(_ n: Int, _ field: StaticString) throws(WireDecodeError)
        -> UnsafeRawBufferPointer
    {
        guard n >= 0, remaining >= n else { throw WireDecodeError("truncated field '\(field)'") }
        let slice = UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + n])
        offset += n
        return slice
    }

    public mutating func u8(_ field: StaticString) throws(WireDecodeError) -> UInt8 {
        try take(1, field)[0]
    }
    public mutating func bool(_ field: StaticString) throws(WireDecodeError) -> Bool {
        switch try u8(field) {
        case 0: return false
        case 1: return true
        default: throw WireDecodeError("field '\(field)' is not 0 or 1")
        }
    }
    public mutating func u16(_ field: StaticString) throws(WireDecodeError) -> UInt16 {
        let b = try take(2, field)
        return UInt16(b[0]) << 8 | UInt16(b[1])
    }
    public mutating func u32(_ field: StaticString) throws(WireDecodeError) -> UInt32 {
        let b = try take(4, field)
        return UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])
    }
    public mutating func i64(_ field: StaticString) throws(WireDecodeError) -> Int64 {
        let b = try take(8, field)
        var v: UInt64 = 0
        for i in 0..<8 { v = v << 8 | UInt64(b[i]) }
        return Int64(bitPattern: v)
    }
    public mutating func string(_ field: StaticString) throws(WireDecodeError) -> String {
        let n = Int(try u16(field))
        let b = try take(n, field)
        guard let s = String(validating: b.bindMemory(to: UInt8.self), as: UTF8.self) else {
            throw WireDecodeError("field '\(field)' is not valid UTF-8")
        }
        return s
    }
    public mutating func optionalString(_ field: StaticString) throws(WireDecodeError) -> String? {
        try bool(field) ? try string(field) : nil
    }
    public mutating func optionalI64(_ field: StaticString) throws(WireDecodeError) -> Int64? {
        try bool(field) ? try i64(field) : nil
    }
    /// Like `string`, invalid UTF-8 included (`bad request`), but the bytes
    /// are checked in place and copied only into `SecretBytes`.
    public mutating func secret(_ field: StaticString) throws(WireDecodeError) -> SecretBytes {
        let n = Int(try u16(field))
        let b = try take(n, field)
        guard Self.isValidUTF8(b) else { throw WireDecodeError("field '\(field)' is not valid UTF-8") }
        return SecretBytes(copying: b)
    }

    /// Whether `bytes` are well-formed UTF-8; decodes in place, allocates nothing.
    static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var it = bytes.bindMemory(to: UInt8.self).makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&it) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
    public mutating func bytes(_ n: Int, _ field: StaticString) throws(WireDecodeError) -> [UInt8] {
        Array(try take(n, field))
    }

    /// Every byte must have been consumed.
    public func finish() throws(WireDecodeError) {
        guard remaining == 0 else { throw WireDecodeError("\(remaining) unexpected trailing bytes") }
    }
}
