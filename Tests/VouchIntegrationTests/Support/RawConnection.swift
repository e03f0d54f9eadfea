import Foundation
import VouchProtocol

/// A blocking Unix-socket connection that sends arbitrary bytes and reads
/// raw response frames: for tests that speak the protocol badly on purpose.
final class RawConnection {
    let fd: Int32
    private var closed = false

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestError("socket: errno \(errno)") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { throw TestError("socket path too long") }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else {
            let e = errno
            Glibc.close(fd)
            throw TestError("connect \(path): errno \(e)")
        }
    }

    deinit { close() }

    func close() {
        if !closed {
            closed = true
            Glibc.close(fd)
        }
    }

    /// Sends everything (blocking); false if the daemon closed the connection.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }

    /// Sends what the socket takes within `seconds` without blocking longer;
    /// returns the number of bytes the kernel accepted.
    func sendUntilBlocked(_ bytes: [UInt8], seconds: Double) -> Int {
        var offset = 0
        let deadline = Date().addingTimeInterval(seconds)
        while offset < bytes.count, Date() < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&pfd, 1, 100)
            if ready <= 0 { continue }
            if pfd.revents & Int16(POLLERR | POLLHUP) != 0 { break }
            let n = bytes.withUnsafeBytes { raw in
                Glibc.send(
                    fd, raw.baseAddress! + offset, min(65536, bytes.count - offset),
                    Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                break
            }
            offset += n
        }
        return offset
    }

    enum ReadResult: Equatable {
        case bytes([UInt8])
        case closed
        case timeout
    }

    /// Exactly `count` bytes, or `.closed` at EOF, or `.timeout`.
    func read(_ count: Int, timeout: Double = 10) -> ReadResult {
        var out: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var chunk = [UInt8](repeating: 0, count: max(count, 1))
        while out.count < count {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return .timeout }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(min(left * 1000, 1000) + 1))
            if ready < 0, errno == EINTR { continue }
            if ready <= 0 { continue }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, count - out.count, 0) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return .closed  // ECONNRESET
            }
            if n == 0 { return .closed }
            out += chunk[0..<n]
        }
        return .bytes(out)
    }

    /// The next response frame, nil at EOF or timeout.
    func readResponse(timeout: Double = 10) -> ResponseMessage? {
        guard case .bytes(let prefix) = read(4, timeout: timeout) else { return nil }
        let length = Int(prefix[0]) << 24 | Int(prefix[1]) << 16 | Int(prefix[2]) << 8 | Int(prefix[3])
        guard length > 0, length <= 16 * 1024 * 1024, case .bytes(let payload) = read(length, timeout: timeout)
        else { return nil }
        return payload.withUnsafeBytes { try? ResponseMessage.decode(payload: $0) }
    }

    /// Whether the daemon closes the connection within `timeout` (reading and
    /// discarding anything it still sends).
    func closesWithin(_ timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            switch read(1, timeout: min(0.5, max(0.01, deadline.timeIntervalSinceNow))) {
            case .closed: return true
            case .bytes, .timeout: continue
            }
        }
        return false
    }

    /// Whether the connection is still open and silent for `seconds`.
    func staysOpen(for seconds: Double) -> Bool {
        read(1, timeout: seconds) == .timeout
    }
}

/// Builders for raw request frames.
enum Wire {
    static func frame(_ payload: [UInt8]) -> [UInt8] {
        u32(UInt32(payload.count)) + payload
    }

    static func request(version: UInt8 = 1, opcode: UInt8, id: UInt32, body: [UInt8] = []) -> [UInt8] {
        frame([version, opcode] + u32(id) + body)
    }

    static func u16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }
    static func u32(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)]
    }
    static func str(_ bytes: [UInt8]) -> [UInt8] { u16(UInt16(bytes.count)) + bytes }
    static func str(_ s: String) -> [UInt8] { str(Array(s.utf8)) }

    /// A login body: username, password, options, service, rhost, tty.
    static func loginBody(_ user: [UInt8], _ password: [UInt8], options: UInt8 = 0) -> [UInt8] {
        str(user) + str(password) + [options] + str("") + str("") + str("")
    }

    /// A create_user body: username, no email, password, flags.
    static func createBody(_ user: [UInt8], _ password: [UInt8], flags: UInt8 = 1) -> [UInt8] {
        str(user) + [0] + str(password) + [flags]
    }
}

/// The resident set size of a process in KiB, from /proc/PID/status.
func residentKiB(pid: Int32) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    }
    return nil
}
