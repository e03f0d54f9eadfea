import Glibc
import VouchProtocol

/// A plain blocking Unix-socket client (socket/connect/send/recv), for tests
/// that need to see exactly which bytes arrive and in which order.
final class RawSocket {
    let fd: Int32
    private var splitter = FrameSplitter(maxFrameBytes: 16 << 20)

    init(path: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestError("socket: \(String(cString: strerror(errno)))") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            close(fd)
            throw TestError("socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw TestError("connect \(path): \(message)")
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Writes every byte (one `send` when the kernel takes them all).  Never raises SIGPIPE.
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw TestError("send: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }

    /// Waits up to `timeout` seconds for the socket to become readable.
    func waitReadable(timeout seconds: Int) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let rc = poll(&p, 1, Int32(seconds * 1000))
            if rc < 0, errno == EINTR { continue }
            return rc > 0
        }
    }

    /// Whether bytes (or EOF) are waiting right now, without blocking.
    var hasDataNow: Bool { waitReadable(timeout: 0) }

    enum ReadResult {
        case bytes([UInt8])
        case closed
    }

    private func readSome(timeout: Int) throws -> ReadResult {
        guard waitReadable(timeout: timeout) else { throw TestError("no data from vouchd within \(timeout) s") }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { return .bytes(Array(buffer[0..<n])) }
            if n == 0 { return .closed }
            if errno == EINTR { continue }
            if errno == ECONNRESET { return .closed }
            throw TestError("recv: \(String(cString: strerror(errno)))")
        }
    }

    /// The next response frame's payload, or nil when the daemon closed the connection.
    func readPayload(timeout: Int = 120) throws -> [UInt8]? {
        while true {
            if let payload = try splitter.next() { return payload }
            switch try readSome(timeout: timeout) {
            case .bytes(let b): splitter.append(b)
            case .closed: return nil
            }
        }
    }

    /// The next response, decoded; throws when the connection closed first.
    func readResponse(timeout: Int = 120) throws -> ResponseMessage {
        guard let payload = try readPayload(timeout: timeout) else {
            throw TestError("vouchd closed the connection instead of answering")
        }
        return try payload.withUnsafeBytes { try ResponseMessage.decode(payload: $0) }
    }

    /// True when the daemon closes the connection (after any remaining frames) within `timeout`.
    func closesConnection(timeout: Int = 60) throws -> Bool {
        while true {
            if try splitter.next() != nil { continue }
            switch try readSome(timeout: timeout) {
            case .bytes(let b): splitter.append(b)
            case .closed: return true
            }
        }
    }

    /// Sends a request and returns its id.
    @discardableResult
    func send(_ request: Request, id: UInt32) throws -> UInt32 {
        try send(RequestMessage(id: id, request: request).encodeFrame())
        return id
    }
}
