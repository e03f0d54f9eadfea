import Foundation
import Testing
import VouchClient
import VouchProtocol

/// Issue 12: connection slots and keepalives.
@Suite struct AbuseConnectionTests {
    @Test(.enabled(if: runningAsRoot, "needs root to run the attacker as uid 65534 (setpriv)"))
    func reservedSlotsLetRootInWhileAUserHoldsTheRest() async throws {
        let daemon = try await TestDaemon(config: [
            "max_connections = 8", "max_connections_per_uid = 8", "reserved_connections = 2", "idle_timeout = 1m",
        ])
        // The attacker opens 8 connections and holds them (pinging) for 4 s.
        let flood = try Flooder(
            socketPath: daemon.socketPath, frames: [frame(1, .ping)], connections: 8, seconds: 4
        ).start()
        try await Task.sleep(for: .seconds(1))
        let root = try RawConnection(path: daemon.socketPath)
        root.send(frame(1, .status))
        let answer = root.readResponse()
        #expect(answer?.status == .ok, "root was refused: \(String(describing: answer))")
        let counts = try flood.wait()
        // At most 6 (8 less the 2 reserved); the tests' start-up connection may still hold one.
        #expect(counts["refused", default: 0] >= 2, "\(counts)")
        #expect(counts.count(.limitExceeded) == counts["refused", default: 0], "\(counts)")
        // One line for the first refusal; the rest only in the interval's summary
        // (which a slow machine may already have written).
        let refusals = daemon.logText().split(separator: "\n").filter {
            $0.contains("connection refused") && !$0.contains(" more in the last ")
        }
        #expect(refusals.count == 1, "\(refusals)")
        #expect(refusals.first?.contains("kept for administrators") == true)
    }

    @Test func aConnectionThatOnlyPingsEndsAtIdleTimeout() async throws {
        let daemon = try await TestDaemon(config: ["idle_timeout = 3s"])
        let conn = try RawConnection(path: daemon.socketPath)
        let start = Date()
        var closed = false
        var id: UInt32 = 0
        while Date().timeIntervalSince(start) < 12 {
            id += 1
            if !conn.send(frame(id, .ping)) {
                closed = true
                break
            }
            if conn.readResponse(timeout: 1) == nil {
                closed = true
                break
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        print("a pinging connection closed after \(Date().timeIntervalSince(start)) s")
        #expect(closed, "still open after 12 s of keepalives with a 3 s idle timeout")
        // A connection doing real work is not idle.
        try await daemon.createUser("alice", password: "correct horse battery 1")
        let worker = try RawConnection(path: daemon.socketPath)
        for i in 1...8 as ClosedRange<UInt32> {
            worker.send(frame(i, .getUser(.username("alice"))))
            #expect(worker.readResponse()?.status == .ok, "request \(i)")
            // A blocking sleep, like the blocking reads around it: a Task.sleep waits for a
            // free cooperative thread, which a loaded run of the suite can hold past the idle timeout.
            usleep(500_000)
        }
    }

    @Test func maxConnectionsIsFittedToTheOpenFileLimitAtStart() async throws {
        // A hard open-file limit of 128 cannot hold 1,000 connections: vouchd
        // says so and lowers max_connections to what fits (128 less 64 for
        // its own files), so the connections past it are refused with a
        // reason instead of failing to be accepted (EMFILE) in silence.
        let daemon = try await TestDaemon(
            config: ["max_connections = 1000", "max_connections_per_uid = 1000", "reserved_connections = 0"],
            start: false)
        let p = Subprocess()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
        p.arguments = ["--nofile=128:128", Products.vouchd, "--config", daemon.configPath, "--log-to", "stderr"]
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: daemon.logPath))
        p.standardError = log
        p.standardOutput = log
        p.standardInput = FileHandle.nullDevice
        try p.run()
        defer {
            p.terminate()
            p.waitUntilExit()
        }
        var open: [RawConnection] = []
        for _ in 0..<200 where open.isEmpty {
            if let conn = try? RawConnection(path: daemon.socketPath) { open.append(conn) }
            try await Task.sleep(for: .milliseconds(50))
        }
        try #require(!open.isEmpty, "vouchd did not start: \(daemon.logText())")
        var served = 0
        var refused: [String] = []
        for i in 0..<80 {
            let conn = i == 0 ? open[0] : try RawConnection(path: daemon.socketPath)
            if i > 0 { open.append(conn) }
            conn.send(frame(1, .ping))
            guard let r = conn.readResponse(timeout: 10) else { continue }
            if r.status == .ok { served += 1 } else { refused.append("\(r.status) \(r.message)") }
        }
        #expect(served == 64, "served \(served)")
        #expect(refused.count == 16, "\(refused.prefix(3))")
        #expect(refused.first?.contains("too many connections (max 64)") == true, "\(refused.prefix(1))")
        #expect(daemon.logText().contains("max_connections lowered to fit the open-file limit"))
        // Still serving once some are gone.
        for conn in open.suffix(30) { conn.close() }
        try await Task.sleep(for: .milliseconds(300))
        let again = try RawConnection(path: daemon.socketPath)
        again.send(frame(1, .status))
        #expect(again.readResponse()?.status == .ok)
    }
}
