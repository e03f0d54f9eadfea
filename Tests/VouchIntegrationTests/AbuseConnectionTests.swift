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
        let refusals = daemon.log_().split(separator: "\n").filter { $0.contains("connection refused") }
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
            try await Task.sleep(for: .milliseconds(500))
        }
    }
}
