import VouchSecrets

/// Appends big-endian wire values to a byte array.
public struct WireWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }
    public mutating func u16(_ v: UInt16) {
        bytes.append(UInt8(v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }
    public mutating func u32(_ v: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(shift)))
        }
    }
    public mutating func i64(_ v: Int64) {
        let u = UInt64(bitPattern: v)
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: u >> UInt64(shift)))
        }
    }
    public mutating func raw<C: Collection>(_ c: C) where C.Element == UInt8 {
        bytes.append(contentsOf: c)
    }

    /// `u16` length, then UTF-8.  Strings longer than 65535 bytes are a programming error.
    public mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            precondition(utf8.count <= Int(UInt16.max), "string too long for the wire")
            u16(UInt16(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }
    public mutating func optionalString(_ s: String?) {
        if let s {
            u8(1)
            string(s)
        } else {
            u8(0)
        }
    }
    public mutating func optionalI64(_ v: Int64?) {
        if let v {
            u8(1)
            i64(v)
        } else {
            u8(0)
        }
    }
    /// `u16` length, then the secret's bytes.
    public mutating func secret(_ s: SecretBytes) {
        precondition(s.count <= Int(UInt16.max), "secret too long for the wire")
        u16(UInt16(s.count))
        s.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    /// Writes a placeholder length prefix; `finishFrame()` fills it in.
    public mutating func beginFrame() { u32(0) }

    /// Fills in the length prefix written by `beginFrame()` and returns the frame.
    public mutating func finishFrame() -> [UInt8] {
        let n = UInt32(bytes.count - Frame.lengthPrefixSize)
        bytes[0] = UInt8(n >> 24)
        bytes[1] = UInt8(truncatingIfNeeded: n >> 16)
        bytes[2] = UInt8(truncatingIfNeeded: n >> 8)
        bytes[3] = UInt8(truncatingIfNeeded: n)
        return bytes
    }

    /// Overwrites the bytes with zeros (after a frame holding a secret was sent).
    public mutating func wipe() {
        bytes.withUnsafeMutableBytes { SecretBytes.wipe($0) }
        bytes.removeAll()
    }
}
