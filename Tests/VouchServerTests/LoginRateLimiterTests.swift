import Synchronization
import Testing

@testable import VouchServer

final class FakeMonotonicClock: Sendable {
    let nanos = Atomic<UInt64>(1_000_000_000)
    func advance(seconds: Double) { nanos.add(UInt64(seconds * 1e9), ordering: .relaxed) }
    var read: @Sendable () -> UInt64 { { self.nanos.load(ordering: .relaxed) } }
}

@Suite struct LoginRateLimiterTests {
    @Test func allowsUpToTheRateThenRefusesUntilRefilled() {
        let clock = FakeMonotonicClock()
        let limiter = LoginRateLimiter(failuresPerMinute: 3, now: clock.read)
        for _ in 0..<3 {
            #expect(limiter.allows(uid: 1000))
            limiter.recordFailure(uid: 1000)
        }
        #expect(!limiter.allows(uid: 1000))
        // Another uid has its own bucket.
        #expect(limiter.allows(uid: 1001))
        // One failure's worth refills in 20 s (3 per minute).
        clock.advance(seconds: 19)
        #expect(!limiter.allows(uid: 1000))
        clock.advance(seconds: 1.5)
        #expect(limiter.allows(uid: 1000))
    }

    @Test func aBurstOfPipelinedFailuresIsPaidBackLater() {
        let clock = FakeMonotonicClock()
        let limiter = LoginRateLimiter(failuresPerMinute: 6, now: clock.read)
        // 12 attempts all started while the bucket was full; all failed.
        for _ in 0..<12 { limiter.recordFailure(uid: 7) }
        #expect(!limiter.allows(uid: 7))
        clock.advance(seconds: 60)  // 6 back: still at 0
        #expect(!limiter.allows(uid: 7))
        clock.advance(seconds: 11)
        #expect(limiter.allows(uid: 7))
    }

    @Test func debtIsCappedAtAnHour() {
        let clock = FakeMonotonicClock()
        let limiter = LoginRateLimiter(failuresPerMinute: 1, now: clock.read)
        for _ in 0..<10_000 { limiter.recordFailure(uid: 7) }
        clock.advance(seconds: 61 * 60 + 1)
        #expect(limiter.allows(uid: 7))
    }

    @Test func zeroTurnsItOffAndReloadChangesTheRate() {
        let clock = FakeMonotonicClock()
        let limiter = LoginRateLimiter(failuresPerMinute: 0, now: clock.read)
        for _ in 0..<100 { limiter.recordFailure(uid: 5) }
        #expect(limiter.allows(uid: 5))
        limiter.setFailuresPerMinute(1)
        limiter.recordFailure(uid: 5)
        #expect(!limiter.allows(uid: 5))
    }

    @Test func refilledBucketsAreForgotten() {
        let clock = FakeMonotonicClock()
        let limiter = LoginRateLimiter(failuresPerMinute: 60, now: clock.read)
        for uid in 0..<4097 as Range<UInt32> { limiter.recordFailure(uid: uid) }
        clock.advance(seconds: 2)
        limiter.recordFailure(uid: 99_999)
        #expect(limiter.trackedPeers <= 2)
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
