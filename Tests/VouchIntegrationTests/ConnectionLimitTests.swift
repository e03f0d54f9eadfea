import Foundation
import Testing
import VouchClient
import VouchProtocol
import VouchSecrets

/// max_connections, max_connections_per_uid, idle_timeout, the slow-frame
/// deadline and max_requests_in_flight, against the real daemon.
@Suite struct ConnectionLimitTests {
    /// Opens a connection and checks it is served (a ping answered).
    static func servedConnection(_ daemon: TestDaemon) throws -> RawConnection? {
        let conn = try RawConnection(path: daemon.socketPath)
        conn.send(Wire.request(opcode: 0x02, id: 1))
        guard let r = conn.readResponse(), r.status == .ok else { return nil }
        return conn
    }

    /// A served connection that the daemon counts as its only one: the
    /// start-up ping's connection is closed asynchronously, so ask `status`
    /// until it is gone (bounded), rather than sleeping a fixed time.
    static func onlyConnection(_ daemon: TestDaemon) async throws -> RawConnection {
        for _ in 0..<1000 {
            if let conn = try? RawConnection(path: daemon.socketPath) {
                conn.send(Wire.request(opcode: 0x03, id: 1))
                if let r = conn.readResponse(), case .status(let s)? = r.reply, s.connections == 1 { return conn }
                conn.close()
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestError("the daemon never counted a single connection")
    }

    static func expectRefused(_ daemon: TestDaemon, mentioning text: String) throws {
        let conn = try RawConnection(path: daemon.socketPath)
        let r = conn.readResponse()
        #expect(r?.status == .limitExceeded)
        #expect(r?.id == 0)
        #expect(r?.message.contains(text) == true, "\(String(describing: r?.message))")
        #expect(conn.closesWithin(5))
    }

    @Test func perUIDCapRefusesWithLimitExceededAndFreesOnClose() async throws {
        let daemon = try await TestDaemon(config: ["max_connections_per_uid = 3"])
        var open: [RawConnection] = [try await Self.onlyConnection(daemon)]
        for _ in 0..<2 { open.append(try #require(try Self.servedConnection(daemon))) }
        try Self.expectRefused(daemon, mentioning: "uid \(getuid())")
        #expect(daemon.logText().contains("connection refused"))
        open.removeLast().close()
        try await Task.sleep(for: .milliseconds(200))
        #expect(try Self.servedConnection(daemon) != nil)
    }

    @Test func totalCapRefusesWithLimitExceeded() async throws {
        let daemon = try await TestDaemon(config: ["max_connections = 2", "max_connections_per_uid = 100"])
        let a = try await Self.onlyConnection(daemon)
        let b = try #require(try Self.servedConnection(daemon))
        try Self.expectRefused(daemon, mentioning: "too many connections (max 2)")
        a.close()
        b.close()
    }

    @Test func idleConnectionsAreClosedButNotWhileAnsweringSlowRequests() async throws {
        // Real argon2 cost and one worker: 24 pipelined logins take longer than the idle timeout.
        let daemon = try await TestDaemon(config: [
            "idle_timeout = 1s", "worker_threads = 1", "argon2_memory_kib = 19456", "argon2_iterations = 2",
            "argon2_parallelism = 1", "login_failures_per_minute = 0", "lockout_deny = 0",
        ])
        let idle = try #require(try Self.servedConnection(daemon))
        #expect(idle.closesWithin(4))

        let busy = try RawConnection(path: daemon.socketPath)
        let logins = (1...24).flatMap { i in
            Wire.request(opcode: 0x11, id: UInt32(i), body: Wire.loginBody(Array("nobody".utf8), Array("pw".utf8)))
        }
        let start = Date()
        busy.send(logins)
        var answered = 0
        while answered < 24, let r = busy.readResponse(timeout: 30) {
            #expect(r.status == .invalidCredentials)
            answered += 1
        }
        #expect(answered == 24, "answered \(answered) in \(Date().timeIntervalSince(start)) s")
        // Once everything is answered, it is idle again.
        #expect(busy.closesWithin(4))
    }

    @Test func aSlowlorisFrameIsCutOff() async throws {
        let daemon = try await TestDaemon(config: ["idle_timeout = 2s"])
        let conn = try RawConnection(path: daemon.socketPath)
        let frame = Wire.request(opcode: 0x01, id: 3, body: Wire.str("a slow client name"))
        let start = Date()
        var closed = false
        for byte in frame {
            if !conn.send([byte]) {
                closed = true
                break
            }
            if case .closed = conn.read(1, timeout: 0.4) {
                closed = true
                break
            }
        }
        let elapsed = Date().timeIntervalSince(start)
        #expect(closed || conn.closesWithin(3), "still open after \(elapsed) s")
        #expect(elapsed < 6)
        #expect(daemon.logText().contains("frame not completed in time"))
        // Others are still served (a raw connection that asks at once: a 2 s idle timeout is short).
        #expect(try Self.servedConnection(daemon) != nil)
    }

    @Test func requestsInFlightPerConnectionAreCapped() async throws {
        let daemon = try await TestDaemon(config: [
            "max_requests_in_flight = 4", "login_failures_per_minute = 0", "lockout_deny = 0",
        ])
        let conn = try RawConnection(path: daemon.socketPath)
        let logins = (1...20).flatMap { i in
            Wire.request(opcode: 0x11, id: UInt32(i), body: Wire.loginBody(Array("nobody".utf8), Array("pw".utf8)))
        }
        conn.send(logins)
        var statuses: [UInt16] = []
        for _ in 0..<20 {
            guard let r = conn.readResponse() else { break }
            statuses.append(r.status.rawValue)
        }
        #expect(statuses.count == 20)
        #expect(statuses.filter { $0 == 21 }.count >= 1)
        #expect(statuses.allSatisfy { $0 == 21 || $0 == 1 })
        // Still usable.
        conn.send(Wire.request(opcode: 0x02, id: 99))
        #expect(conn.readResponse()?.status == .ok)
    }
}
