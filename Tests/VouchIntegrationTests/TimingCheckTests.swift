import Foundation
import Testing
import VouchClient
import VouchProtocol
import VouchSecrets

/// Opt-in (`VOUCH_TIMING=1`, or `make timing-check`): with the default argon2
/// cost, a login for an unknown user, a wrong password and a locked account
/// take the same time.  Measures the three distributions interleaved and
/// checks that their medians are within 10% of each other.  A benchmark, not
/// a unit test: it is skipped unless asked for.
@Suite struct TimingCheckTests {
    static var enabled: Bool { ProcessInfo.processInfo.environment["VOUCH_TIMING"] == "1" }

    @Test(.enabled(if: TimingCheckTests.enabled))
    func unknownWrongAndLockedAreIndistinguishable() async throws {
        let samples = Int(ProcessInfo.processInfo.environment["VOUCH_TIMING_SAMPLES"] ?? "") ?? 60
        let daemon = try await TestDaemon(config: [
            "argon2_memory_kib = 19456", "argon2_iterations = 2", "argon2_parallelism = 1",
            "lockout_deny = 3", "lockout_unlock_time = 0", "lockout_exempt_superuser = yes",
            "login_failures_per_minute = 0",
        ])
        let client = try await daemon.client()
        // A superuser is never locked, so its wrong passwords stay "wrong" (and are still counted and written).
        _ = try await client.createUser(
            username: "wrongpw", password: .text("correct horse 1"), flags: [.active, .superuser])
        _ = try await client.createUser(username: "locked", password: .text("correct horse 1"))
        for _ in 0..<3 { _ = try? await client.login(username: "locked", password: .text("wrong horse 0")) }
        #expect(try await client.accountStatus(username: "locked") == .locked)

        func time(_ username: String) async -> (Double, Status?) {
            let start = ContinuousClock.now
            let status = await refusedStatus { () async throws(VouchClientError) in
                _ = try await client.login(username: username, password: .text("wrong horse 1"))
            }
            let d = ContinuousClock.now - start
            return (Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15, status)
        }
        // Warm up.
        for name in ["nobody", "wrongpw", "locked"] { _ = await time(name) }
        var unknown: [Double] = []
        var wrong: [Double] = []
        var locked: [Double] = []
        for i in 0..<samples {
            let (u, us) = await time("nobody\(i)")
            let (w, ws) = await time("wrongpw")
            let (l, ls) = await time("locked")
            #expect(us == .invalidCredentials && ws == .invalidCredentials && ls == .locked)
            unknown.append(u)
            wrong.append(w)
            locked.append(l)
        }
        await client.close()
        func median(_ xs: [Double]) -> Double {
            let s = xs.sorted()
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        func p(_ xs: [Double], _ q: Double) -> Double { xs.sorted()[min(xs.count - 1, Int(Double(xs.count) * q))] }
        let medians = [median(unknown), median(wrong), median(locked)]
        let ratio = medians.max()! / medians.min()!
        let report = String(
            format: """
                timing-check: %d samples each, argon2id m=19456 t=2 p=1
                  unknown user    median %.2f ms  p10 %.2f  p90 %.2f
                  wrong password  median %.2f ms  p10 %.2f  p90 %.2f
                  locked account  median %.2f ms  p10 %.2f  p90 %.2f
                  max/min median ratio %.3f (limit 1.10)
                """, samples, medians[0], p(unknown, 0.1), p(unknown, 0.9), medians[1], p(wrong, 0.1),
            p(wrong, 0.9), medians[2], p(locked, 0.1), p(locked, 0.9), ratio)
        print(report)
        #expect(ratio <= 1.10, "\(report)")
    }
}
