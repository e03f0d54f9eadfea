import Foundation
import Testing
import VouchClient
import VouchProtocol

/// Issue 12: one local peer, or one remote attacker through sshd's PAM
/// stack, must not deny logins to others.  Each test floods the real daemon
/// as an attacker (another uid via `setpriv`, or root with another PAM remote
/// host) and asserts what the victim sees: its correct password gets in.
/// Latencies are printed, never asserted (`make bench` measures speed).
@Suite struct AbuseTests {
    static let attackerUID: UInt32 = 65534

    @Test func failedPAMLoginsFromOneHostLeaveOtherHostsLoggingIn() async throws {
        // sshd, su and login all connect as uid 0: limits are per service and remote host.
        let daemon = try await TestDaemon(config: ["login_failures_per_minute = 60", "lockout_deny = 0"])
        try await daemon.createUser("alice", password: "correct horse battery 1")
        let attacker = try RawConnection(path: daemon.socketPath)
        // A pipelined burst of 300 guesses from one host.
        attacker.send((1...300).flatMap { frame(UInt32($0), pamLogin("alice", "guess \($0)", rhost: "203.0.113.9")) })
        var statuses: [Status: Int] = [:]
        for _ in 1...300 {
            guard let r = attacker.readResponse(timeout: 60) else { break }
            statuses[r.status, default: 0] += 1
        }
        // At most 60 checked; the rest refused at once (rate limited, or busy
        // while the checks in progress hold the allowance).
        #expect(statuses[.invalidCredentials, default: 0] <= 60, "\(statuses)")
        #expect(statuses[.rateLimited, default: 0] + statuses[.busy, default: 0] >= 240, "\(statuses)")

        // Another host's user gets in at once, through the same service.
        let client = try await daemon.client()
        let start = ContinuousClock.now
        let user = try await client.login(
            username: "alice", password: .text("correct horse battery 1"),
            context: LoginContext(service: "sshd", remoteHost: "198.51.100.7", tty: "ssh"))
        print("victim login from another host after a 300-guess burst: \(ContinuousClock.now - start)")
        #expect(user.user.username == "alice")
        // So does a local su, and another uid's login.
        _ = try await client.login(
            username: "alice", password: .text("correct horse battery 1"),
            context: LoginContext(service: "su", tty: "pts/1"))
        await client.close()

        // The burst ran up no debt: one token's refill (1 s at 60 a minute)
        // later, the attacking host itself may try again.
        try await Task.sleep(for: .milliseconds(1500))
        attacker.send(frame(1000, pamLogin("alice", "correct horse battery 1", rhost: "203.0.113.9")))
        #expect(attacker.readResponse(timeout: 30)?.status == .ok)
    }

    @Test(.enabled(if: runningAsRoot, "needs root to run the attacker as uid 65534 (setpriv)"))
    func anUnprivilegedPeerCannotClaimAnotherSourceByNamingAHost() async throws {
        // A peer that is not root or an admin could name any remote host: its
        // failures are all one source, whatever it claims.
        let daemon = try await TestDaemon(config: ["login_failures_per_minute = 10", "lockout_deny = 0"])
        let frames = (1...50).map { frame(UInt32($0), pamLogin("nobody-here", "guess", rhost: "10.0.0.\($0)")) }
        let counts = try Flooder(socketPath: daemon.socketPath, frames: frames, seconds: 0).start().wait()
        // 10 checked; the rest refused at once: busy while those 10 are in
        // progress (each could fail), rate limited once they have.
        #expect(counts.count(.invalidCredentials) <= 10, "\(counts)")
        #expect(counts.count(.rateLimited) + counts.count(.busy) >= 40, "\(counts)")
        // Root's own logins are another source.
        try await daemon.createUser("alice", password: "correct horse battery 1")
        let client = try await daemon.client()
        _ = try await client.login(username: "alice", password: .text("correct horse battery 1"))
        await client.close()
    }

    @Test func tryFirstPassCostsOneFailurePerAttempt() async throws {
        // pam_vouch try_first_pass: the stacked password (pam_unix's) fails,
        // the prompted one is right, on one connection.  With one failure a
        // minute allowed, that attempt must leave the next one its failure.
        let daemon = try await TestDaemon(config: ["login_failures_per_minute = 1", "lockout_deny = 0"])
        try await daemon.createUser("alice", password: "correct horse battery 1")
        for round in 1...3 {
            let pam = try RawConnection(path: daemon.socketPath)
            pam.send(frame(1, pamLogin("alice", "the unix password", rhost: "198.51.100.7")))
            #expect(pam.readResponse()?.status == .invalidCredentials, "round \(round)")
            pam.send(frame(2, pamLogin("alice", "correct horse battery 1", rhost: "198.51.100.7")))
            #expect(pam.readResponse()?.status == .ok, "round \(round)")
            pam.close()
        }
        // A retry is one retry: a third password on the connection is a new attempt.
        let pam = try RawConnection(path: daemon.socketPath)
        let statuses = (1...3 as ClosedRange<UInt32>).compactMap { id in
            pam.send(frame(id, pamLogin("alice", "wrong \(id)", rhost: "198.51.100.7")))
            return pam.readResponse()?.status
        }
        #expect(statuses == [.invalidCredentials, .invalidCredentials, .rateLimited])
    }

    @Test(.enabled(if: runningAsRoot, "needs root to run the attacker as uid 65534 (setpriv)"))
    func aFlooderOfCorrectLoginsGetsBusyWhileOthersKeepTheirLatency() async throws {
        let daemon = try await TestDaemon(config: ["worker_threads = 2", "worker_queue_limit = 256"])
        try await daemon.createUser("mallory", password: "tr0ub4dor and three 3")
        try await daemon.createUser("alice", password: "correct horse battery 1")
        // 16 connections, 64 correct logins in flight on each: 1,024 against a queue of 256.
        let frames = (1...64).map { frame(UInt32($0), loginRequest("mallory", "tr0ub4dor and three 3")) }
        let flood = try Flooder(socketPath: daemon.socketPath, frames: frames, connections: 16, seconds: 6).start()
        try await Task.sleep(for: .seconds(1))
        let client = try await daemon.client()
        var latencies = Latencies()
        var refused: [String] = []
        for _ in 1...30 {
            let start = ContinuousClock.now
            do {
                _ = try await client.login(username: "alice", password: .text("correct horse battery 1"))
            } catch {
                refused.append("\(error.status.map { "\($0)" } ?? "") \(error.message)")
            }
            latencies.add(ContinuousClock.now - start)
        }
        await client.close()
        let counts = try flood.wait()
        print("victim logins beside a correct-login flood: \(latencies.summary); flooder: \(counts)")
        #expect(refused.isEmpty, "the victim was refused: \(refused)")
        #expect(counts.count(.busy) > 0, "the flooder was never told busy: \(counts)")
        #expect(counts.count(.ok) > 0)
    }

    @Test(.enabled(if: runningAsRoot, "needs root to run the attacker as uid 65534 (setpriv)"))
    func floodedRefusalsAreLoggedOncePerSourceAndInterval() async throws {
        let daemon = try await TestDaemon(config: ["login_failures_per_minute = 5", "lockout_deny = 0"])
        let frames = (1...500).map { frame(UInt32($0), loginRequest("nobody-here", "guess")) }
        let counts = try Flooder(socketPath: daemon.socketPath, frames: frames, seconds: 0).start().wait()
        #expect(counts.count(.rateLimited) + counts.count(.busy) >= 490, "\(counts)")
        // Then 500 more, now all rate limited.
        let again = try Flooder(socketPath: daemon.socketPath, frames: frames, seconds: 0).start().wait()
        #expect(again.count(.rateLimited) >= 495, "\(again)")
        let lines = daemon.logText().split(separator: "\n").filter {
            $0.contains("uid \(Self.attackerUID)") && ($0.contains("rate_limited") || $0.contains("event=busy"))
                && !$0.contains(" more in the last ")  // the 10 s summary, which a slow machine may reach
        }
        // One line per kind (rate limited, busy) and source, until the 10 s summary.
        #expect(lines.count >= 1 && lines.count <= 2, "\(lines.count) lines: \(lines.prefix(5))")
    }
}
