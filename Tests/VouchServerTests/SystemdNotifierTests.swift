import Glibc
import Testing

@testable import VouchServer

/// A datagram socket standing in for systemd's notification socket.
private final class FakeNotifySocket {
    let directory: String
    let path: String
    let fd: Int32

    init() throws {
        var template = Array("/tmp/vouch-notify-XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { throw Failure("mkdtemp") }
        directory = String(cString: dir)
        path = directory + "/notify.sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { sunPath in
            for (i, b) in bytes.enumerated() { sunPath[i] = b }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else { throw Failure("bind: \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// The next datagram, or nil after the receive timeout.
    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }

    deinit {
        close(fd)
        unlink(path)
        rmdir(directory)
    }
}

private struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// These tests change the process environment, so they run one at a time.
@Suite(.serialized) struct SystemdEnvironmentTests {
    @Test func notificationsReachNotifySocket() throws {
        let fake = try FakeNotifySocket()
        setenv("NOTIFY_SOCKET", fake.path, 1)
        defer { unsetenv("NOTIFY_SOCKET") }
        let notifier = SystemdNotifier()
        #expect(notifier.isEnabled)

        notifier.ready(status: "Listening on /run/vouch/vouchd.sock")
        #expect(fake.receive() == "READY=1\nSTATUS=Listening on /run/vouch/vouchd.sock")
        notifier.ready()
        #expect(fake.receive() == "READY=1")
        notifier.status("3 connections\n2 requests")
        #expect(fake.receive() == "STATUS=3 connections 2 requests")
        notifier.stopping()
        #expect(fake.receive() == "STOPPING=1")
        notifier.watchdogPing()
        #expect(fake.receive() == "WATCHDOG=1")

        let before = SystemdNotifier.monotonicMicroseconds()
        notifier.reloading()
        let reload = try #require(fake.receive())
        let lines = reload.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first == "RELOADING=1")
        let usec = try #require(lines.last.flatMap { UInt64($0.dropFirst("MONOTONIC_USEC=".count)) })
        #expect(lines.last?.hasPrefix("MONOTONIC_USEC=") == true)
        #expect(usec >= before && usec <= SystemdNotifier.monotonicMicroseconds())
    }

    @Test func noOpWithoutNotifySocket() {
        unsetenv("NOTIFY_SOCKET")
        let notifier = SystemdNotifier()
        #expect(!notifier.isEnabled)
        #expect(notifier.send("READY=1") == false)
        notifier.ready(status: "x")
        notifier.stopping()
    }

    @Test func watchdogIntervalIsHalfOfWatchdogUsec() {
        setenv("WATCHDOG_USEC", "30000000", 1)
        setenv("WATCHDOG_PID", "\(getpid())", 1)
        defer {
            unsetenv("WATCHDOG_USEC")
            unsetenv("WATCHDOG_PID")
        }
        #expect(SystemdNotifier().watchdogInterval == .seconds(15))
    }

    @Test func watchdogForAnotherProcessIsIgnored() {
        setenv("WATCHDOG_USEC", "30000000", 1)
        setenv("WATCHDOG_PID", "\(getpid() + 1)", 1)
        defer {
            unsetenv("WATCHDOG_USEC")
            unsetenv("WATCHDOG_PID")
        }
        #expect(SystemdNotifier().watchdogInterval == nil)
    }

    @Test func noWatchdogByDefault() {
        unsetenv("WATCHDOG_USEC")
        #expect(SystemdNotifier().watchdogInterval == nil)
    }

    @Test func noListenSocketsWithoutListenFds() throws {
        unsetenv("LISTEN_FDS")
        unsetenv("LISTEN_PID")
        #expect(try ListenSockets.inheritUnixSocket() == nil)
        #expect(ListenSockets.inheritedUnixSocket() == nil)
    }

    @Test func listenFdsForAnotherProcessAreIgnoredAndUnset() throws {
        setenv("LISTEN_FDS", "1", 1)
        setenv("LISTEN_PID", "\(getpid() + 1)", 1)
        #expect(try ListenSockets.inheritUnixSocket() == nil)
        #expect(getenv("LISTEN_FDS") == nil)
        #expect(getenv("LISTEN_PID") == nil)
    }

    @Test func journalStreamMustMatchStderr() {
        setenv("JOURNAL_STREAM", "1:1", 1)
        #expect(!LoggingSetup.stderrIsJournalStream())
        var st = stat()
        fstat(2, &st)
        setenv("JOURNAL_STREAM", "\(st.st_dev):\(st.st_ino)", 1)
        #expect(LoggingSetup.stderrIsJournalStream())
        #expect(LoggingSetup.automaticDestination() == .journal)
        setenv("JOURNAL_STREAM", "garbage", 1)
        #expect(!LoggingSetup.stderrIsJournalStream())
        unsetenv("JOURNAL_STREAM")
        #expect(!LoggingSetup.stderrIsJournalStream())
    }
}
