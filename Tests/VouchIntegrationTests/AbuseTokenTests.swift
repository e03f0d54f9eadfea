import Foundation
import Testing
import VouchClient
import VouchProtocol

/// Issue 12: forgot_password floods, token guessing and account_status
/// enumeration by an unprivileged peer.
@Suite struct AbuseTokenTests {
    /// Reset tokens the database holds for `username`.
    static func resetTokens(_ daemon: TestDaemon, _ username: String) throws -> Int {
        let r = try runProcess(
            "/usr/bin/sqlite3",
            [
                daemon.databasePath,
                "SELECT count(*) FROM tokens JOIN users ON users.id = tokens.user_id WHERE purpose = 2 AND users.username = '\(username)';",
            ])
        guard r.status == 0, let n = Int(r.out) else { throw TestError("sqlite3: \(r.stderr)") }
        return n
    }

    @Test(.enabled(if: runningAsRoot, "needs root to run the attacker as uid 65534 (setpriv)"))
    func aForgotPasswordFloodIssuesFewTokensAndLeavesLoginsAlone() async throws {
        let daemon = try await TestDaemon(config: ["worker_threads = 1"])
        try await daemon.createUser("alice", password: "correct horse battery 1")
        // 4 connections asking again and again for 3 s.
        let frames = (1...64).map { frame(UInt32($0), .forgotPassword(usernameOrEmail: "alice")) }
        let flood = try Flooder(socketPath: daemon.socketPath, frames: frames, connections: 4, seconds: 3).start()
        let client = try await daemon.client()
        var latencies = Latencies()
        for _ in 1...20 {
            let start = ContinuousClock.now
            _ = try await client.login(username: "alice", password: .text("correct horse battery 1"))
            latencies.add(ContinuousClock.now - start)
        }
        let counts = try flood.wait()
        print("victim logins beside a forgot_password flood: \(latencies.summary); flooder: \(counts)")
        #expect(counts.count(.rateLimited) > 0, "\(counts)")
        #expect(counts.count(.ok) <= 20, "\(counts)")  // 10 a minute, and a few refilled
        // One outstanding reset token: each new one replaces the last.
        try await Task.sleep(for: .milliseconds(300))
        #expect(try Self.resetTokens(daemon, "alice") <= 1)
        // The account's own limit: a fresh uid (root) asking is answered, but no more tokens are made.
        await client.close()
    }

    @Test(.enabled(if: runningAsRoot, "needs root to run the attacker as uid 65534 (setpriv)"))
    func guessedResetAndVerifyTokensAreRateLimited() async throws {
        let daemon = try await TestDaemon(config: ["token_failures_per_minute = 5"])
        let reset = (1...30).map { i in
            frame(UInt32(i), .resetPassword(token: .text("vr_guess\(i)"), password: .text("abuse new pass 9")))
        }
        let verify = (31...60).map { i in frame(UInt32(i), .verifyEmail(token: .text("vv_guess\(i)"))) }
        let counts = try Flooder(socketPath: daemon.socketPath, frames: reset + verify, seconds: 0).start().wait()
        #expect(counts.count(.rateLimited) >= 55, "\(counts)")
        #expect(counts.count(.invalidToken) <= 5, "\(counts)")
        // Another uid still redeems (here: is told its token is invalid, not rate limited).
        let client = try await daemon.client()
        let r = await refusal { () async throws(VouchClientError) in
            try await client.resetPassword(token: .text("vr_root"), password: .text("abuse new pass 9"))
        }
        #expect(r.status == .invalidToken, "\(r)")
        await client.close()
    }

    @Test(.enabled(if: runningAsRoot, "needs root to run the attacker as uid 65534 (setpriv)"))
    func accountStatusEnumerationIsRateLimitedPerUID() async throws {
        let daemon = try await TestDaemon(config: ["login_failures_per_minute = 10"])
        try await daemon.createUser("alice", password: "correct horse battery 1")
        let names = (1...200).map { frame(UInt32($0), .accountStatus(username: "guess\($0)")) }
        let counts = try Flooder(socketPath: daemon.socketPath, frames: names, seconds: 0).start().wait()
        #expect(counts.count(.notFound) <= 10, "\(counts)")
        #expect(counts.count(.rateLimited) >= 190, "\(counts)")
        #expect(daemon.logText().contains("rate limited"))
        // Root (PAM's account phase) is not limited.
        let client = try await daemon.client()
        for _ in 1...20 {
            #expect(try await client.accountStatus(username: "alice") == .active)
        }
        await client.close()
    }
}

extension AbuseTokenTests {
    /// Only unknown names are charged: an account whose password expired is
    /// a real account, and asking about it must not use up the peer's allowance.
    @Test(.enabled(if: runningAsRoot, "needs root to run the attacker as uid 65534 (setpriv)"))
    func accountStatusOfAnExpiredAccountIsNotChargedAsUnknown() async throws {
        let daemon = try await TestDaemon(config: ["login_failures_per_minute = 10"])
        try await daemon.createUser("alice", password: "correct horse battery 1")
        let expired = try daemon.vouchctl(["user", "expire", "alice"])
        #expect(expired.status == 0, "\(expired.stderr)")
        let asks = (1...50).map { frame(UInt32($0), .accountStatus(username: "alice")) }
        let counts = try Flooder(socketPath: daemon.socketPath, frames: asks, seconds: 0).start().wait()
        #expect(counts.count(.passwordExpired) == 50, "\(counts)")
        #expect(counts.count(.rateLimited) == 0, "\(counts)")
    }
}
