import Glibc

/// A clock for tests of expiry against the real daemon: the system time
/// plus an offset in milliseconds read from a file at every call (a missing
/// or unreadable file means no offset).  Enabled only by vouchd's hidden
/// `--test-clock-file` option.
public struct OffsetFileClock: VouchClock {
    public let path: String
    let system = SystemClock()

    public init(path: String) { self.path = path }

    public func nowMillis() -> Int64 { system.nowMillis() + offset() }

    func offset() -> Int64 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = read(fd, &buffer, buffer.count)
        guard n > 0 else { return 0 }
        let text = String(decoding: buffer[0..<n], as: UTF8.self).trimmingSuffixWhitespace()
        return Int64(text) ?? 0
    }
}
