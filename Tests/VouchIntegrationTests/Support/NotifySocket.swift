import Foundation

/// A NOTIFY_SOCKET of our own: an AF_UNIX datagram socket whose messages
/// (sd_notify(3) lines like READY=1) are collected in order.
final class NotifySocket: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let messages = MessageBox()
    private var thread: Thread?

    init(directory: String) throws {
        path = directory + "/notify.sock"
        let sock = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard sock >= 0 else { throw TestError("socket failed") }
        fd = sock
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(sock, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else { throw TestError("bind \(path) failed") }
        let messages = self.messages
        let t = Thread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = recv(sock, &buffer, buffer.count, 0)
                if n <= 0 { return }
                let text = String(decoding: buffer[0..<n], as: UTF8.self)
                messages.append(text)
            }
        }
        t.start()
        thread = t
    }

    /// Every message so far, each split into its lines.
    var lines: [String] { messages.all.flatMap { $0.split(separator: "\n").map(String.init) } }

    /// Waits (bounded) until a line satisfying `predicate` arrives after index `from`; returns its index.
    @discardableResult
    func wait(for description: String, after from: Int = -1, timeout: TimeInterval = 20, _ predicate: (String) -> Bool)
        async throws -> Int
    {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let all = lines
            if let i = all.indices.first(where: { $0 > from && predicate(all[$0]) }) { return i }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestError("no \(description) on NOTIFY_SOCKET; got \(lines)")
    }

    deinit {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        unlink(path)
    }
}

final class MessageBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func append(_ s: String) { lock.withLock { items.append(s) } }
    var all: [String] { lock.withLock { items } }
}
