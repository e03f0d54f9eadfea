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
    public mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) } }
    public mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) } }
    public mutating func i64(_ v: Int64) { withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) } }
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

    /// Bytes written so far.
    public var count: Int { bytes.count }

    /// Writes a placeholder length prefix and returns where the frame starts;
    /// `endFrame(startingAt:)` fills it in.  Several frames may follow each other.
    @discardableResult
    public mutating func beginFrame() -> Int {
        let start = bytes.count
        u32(0)
        return start
    }

    /// Fills in the length prefix of the frame begun at `start`.
    public mutating func endFrame(startingAt start: Int) {
        let n = UInt32(bytes.count - start - Frame.lengthPrefixSize)
        bytes[start] = UInt8(n >> 24)
        bytes[start + 1] = UInt8(truncatingIfNeeded: n >> 16)
        bytes[start + 2] = UInt8(truncatingIfNeeded: n >> 8)
        bytes[start + 3] = UInt8(truncatingIfNeeded: n)
    }

    /// Fills in the length prefix written by `beginFrame()` and returns the frame.
    public mutating func finishFrame() -> [UInt8] {
        endFrame(startingAt: 0)
        return bytes
    }

    /// Forgets what was written, keeping the capacity for the next frames.
    public mutating func reset() { bytes.removeAll(keepingCapacity: true) }

    /// Overwrites the bytes with zeros (after a frame holding a secret was sent).
    public mutating func wipe() {
        bytes.withUnsafeMutableBytes { SecretBytes.wipe($0) }
        bytes.removeAll()
    }
}
