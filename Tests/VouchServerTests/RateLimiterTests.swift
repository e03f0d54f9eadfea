import Synchronization
import Testing
import VouchCore

@testable import VouchServer

final class FakeMonotonicClock: Sendable {
    let nanos = Atomic<UInt64>(1_000_000_000)
    func advance(seconds: Double) { nanos.add(UInt64(seconds * 1e9), ordering: .relaxed) }
    var read: @Sendable () -> UInt64 { { self.nanos.load(ordering: .relaxed) } }
}

@Suite struct RateLimiterTests {
    @Test func allowsUpToTheRateThenRefusesUntilRefilled() {
        let clock = FakeMonotonicClock()
        let limiter = RateLimiter<UInt32>(limit: 3, now: clock.read)
        for _ in 0..<3 { #expect(limiter.take(1000)) }
        #expect(!limiter.take(1000))
        // Another key has its own bucket.
        #expect(limiter.take(1001))
        // One failure's worth refills in 20 s (3 per minute).
        clock.advance(seconds: 19)
        #expect(!limiter.take(1000))
        clock.advance(seconds: 1.5)
        #expect(limiter.take(1000))
    }

    @Test func aPipelinedBurstRunsUpNoDebt() {
        // 1000 attempts arrive at once: only 6 start; the others are refused
        // at once, and one token's refill (10 s) later the next may start.
        let clock = FakeMonotonicClock()
        let limiter = RateLimiter<UInt32>(limit: 6, now: clock.read)
        let started = (0..<1000).filter { _ in limiter.take(7) }.count
        #expect(started == 6)
        clock.advance(seconds: 10.5)
        #expect(limiter.take(7))
        #expect(!limiter.take(7))
    }

    @Test func operationsThatDoNotCountAreNeverLimited() {
        // Correct passwords take no token: never limited.
        let clock = FakeMonotonicClock()
        let limiter = RateLimiter<UInt32>(limit: 2, now: clock.read)
        for _ in 0..<100 {
            #expect(limiter.begin(9) == .admitted)
            limiter.end(9, counted: false)
        }
        #expect(limiter.trackedKeys == 0)
    }

    @Test func checksInProgressHoldTheAllowanceAndAreBusyNotLimited() {
        let clock = FakeMonotonicClock()
        let limiter = RateLimiter<UInt32>(limit: 3, now: clock.read)
        for _ in 0..<3 { #expect(limiter.begin(4) == .admitted) }
        // Three in progress could all fail: a fourth waits its turn.
        #expect(limiter.begin(4) == .busy)
        limiter.end(4, counted: false)
        #expect(limiter.begin(4) == .admitted)
        for _ in 0..<3 { limiter.end(4, counted: true) }
        #expect(limiter.begin(4) == .limited)
        limiter.refund(4)
        #expect(limiter.begin(4) == .admitted)
    }

    @Test func sourcesOfOnePeerHaveTheirOwnBuckets() {
        let clock = FakeMonotonicClock()
        let limiter = RateLimiter<RequestSource>(limit: 2, now: clock.read)
        let attacker = RequestSource(uid: 0, service: "sshd", remoteHost: "203.0.113.9")
        let victim = RequestSource(uid: 0, service: "sshd", remoteHost: "198.51.100.7")
        while limiter.take(attacker) {}
        #expect(limiter.take(victim))
    }

    @Test func zeroTurnsItOffAndReloadChangesTheRate() {
        let clock = FakeMonotonicClock()
        let limiter = RateLimiter<UInt32>(limit: 0, now: clock.read)
        for _ in 0..<100 { #expect(limiter.take(5)) }
        limiter.setLimit(1)
        #expect(limiter.take(5))
        #expect(!limiter.take(5))
    }

    @Test func refilledBucketsAreForgottenAndKeysAreBounded() {
        let clock = FakeMonotonicClock()
        let limiter = RateLimiter<UInt32>(limit: 60, maxKeys: 100, now: clock.read)
        for key in 0..<100 as Range<UInt32> { #expect(limiter.take(key)) }
        // A new key while every tracked bucket is still short: refused.
        #expect(!limiter.take(100_000))
        clock.advance(seconds: 2)
        #expect(limiter.take(99_999))
        #expect(limiter.trackedKeys <= 2)
    }
}

@Suite struct ConnectionLimiterTests {
    @Test func capsTotalAndPerUID() {
        let limiter = ConnectionLimiter(maxTotal: 3, maxPerUID: 2)
        #expect(limiter.admit(uid: 1) == nil)
        #expect(limiter.admit(uid: 1) == nil)
        #expect(limiter.admit(uid: 1)?.contains("uid 1") == true)
        #expect(limiter.admit(uid: 2) == nil)
        #expect(limiter.admit(uid: 3)?.contains("too many connections (max 3)") == true)
        limiter.release(uid: 1)
        #expect(limiter.admit(uid: 3) == nil)
        #expect(limiter.open == 3)
    }
}

@Suite struct ReservedConnectionTests {
    @Test func theLastSlotsAreKeptForAdministrators() {
        let limiter = ConnectionLimiter(maxTotal: 4, maxPerUID: 10, reserved: 2)
        #expect(limiter.admit(uid: 1000) == nil)
        #expect(limiter.admit(uid: 1000) == nil)
        #expect(limiter.admit(uid: 1000)?.contains("kept for administrators") == true)
        #expect(limiter.admit(uid: 0, privileged: true) == nil)
        #expect(limiter.admit(uid: 0, privileged: true) == nil)
        #expect(limiter.admit(uid: 0, privileged: true)?.contains("max 4") == true)
    }
}
