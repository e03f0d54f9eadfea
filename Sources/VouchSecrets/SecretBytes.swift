import CVouchSys

/// A password or token held in memory that vouch controls: never a `String`,
/// zeroed when the last reference goes away, and never printed.
///
/// `description` and `debugDescription` deliberately say nothing about the
/// contents, so a secret that reaches a log line or an error message by
/// accident shows up as `<secret: N bytes>`.
public final class SecretBytes: @unchecked Sendable, CustomStringConvertible,
    CustomDebugStringConvertible
{
    // Immutable after init; the storage is owned and wiped in deinit.
    private let storage: UnsafeMutableRawBufferPointer

    /// Copies `bytes` into owned storage.
    public init<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        storage = .allocate(byteCount: max(bytes.count, 1), alignment: 1)
        _ = storage.initializeMemory(as: UInt8.self, from: bytes)
        count = bytes.count
    }

    /// Copies from a raw buffer (e.g. a slice of a received frame).
    public init(copying raw: UnsafeRawBufferPointer) {
        storage = .allocate(byteCount: max(raw.count, 1), alignment: 1)
        if let base = raw.baseAddress, raw.count > 0 {
            storage.baseAddress!.copyMemory(from: base, byteCount: raw.count)
        }
        count = raw.count
    }

    /// Copies the UTF-8 of a string.  Use only at the edges (CLI input, tests):
    /// the `String` itself cannot be wiped.
    public convenience init(utf8 string: String) {
        self.init(Array(string.utf8))
    }

    deinit {
        cvouch_secure_zero(storage.baseAddress, storage.count)
        storage.deallocate()
    }

    /// Number of bytes.
    public let count: Int

    public var isEmpty: Bool { count == 0 }

    /// Gives temporary access to the bytes.  Do not let them escape.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(rebasing: storage[0..<count]))
    }

    /// Whether the bytes are valid UTF-8.
    public var isValidUTF8: Bool {
        withUnsafeBytes { raw in
            String(validating: raw.bindMemory(to: UInt8.self), as: UTF8.self) != nil
        }
    }

    /// Number of Unicode scalars, or nil when the bytes are not valid UTF-8.
    public var unicodeScalarCount: Int? {
        withUnsafeBytes { raw -> Int? in
            var it = raw.bindMemory(to: UInt8.self).makeIterator()
            var decoder = UTF8()
            var n = 0
            while true {
                switch decoder.decode(&it) {
                case .scalarValue: n += 1
                case .emptyInput: return n
                case .error: return nil
                }
            }
        }
    }

    /// Whether the bytes contain a NUL byte.
    public var containsNUL: Bool {
        withUnsafeBytes { $0.contains(0) }
    }

    /// Constant-time equality (the time depends on the lengths only).
    public func constantTimeEquals(_ other: SecretBytes) -> Bool {
        withUnsafeBytes { a in other.withUnsafeBytes { b in SecretBytes.constantTimeEquals(a, b) } }
    }

    /// Constant-time comparison of two byte buffers.
    public static func constantTimeEquals(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer)
        -> Bool
    {
        var diff: UInt8 = a.count == b.count ? 0 : 1
        let n = Swift.min(a.count, b.count)
        for i in 0..<n { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    /// Zeroes memory that held a secret, in a way the compiler keeps.
    public static func wipe(_ buffer: UnsafeMutableRawBufferPointer) {
        cvouch_secure_zero(buffer.baseAddress, buffer.count)
    }

    public var description: String { "<secret: \(count) bytes>" }
    public var debugDescription: String { description }
}
