import Glibc
import VouchCore

/// Failed logins per peer uid: a token bucket of `failuresPerMinute`
/// tokens, refilled continuously.  A login (or change_password) may start
/// while the peer's bucket holds a whole token; each failure takes one
/// afterwards, and may take the bucket into debt (pipelined guesses that all
/// started while it was full), so a burst is paid back by a longer wait.
/// The debt is capped at an hour's worth.  Keyed by uid, not connection:
/// opening more connections does not buy more guesses.
public final class LoginRateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updatedNanos: UInt64
    }

    private struct State {
        var perMinute: Int
        var buckets: [UInt32: Bucket] = [:]
    }

    private let state: Locked<State>
    private let now: @Sendable () -> UInt64

    /// `failuresPerMinute` 0 turns the limit off.  `now` is a monotonic clock in nanoseconds.
    public init(failuresPerMinute: Int, now: @escaping @Sendable () -> UInt64 = LoginRateLimiter.monotonicNanos) {
        self.state = Locked(State(perMinute: max(0, failuresPerMinute)))
        self.now = now
    }

    /// Changes the rate (on reload); buckets keep their balance.
    public func setFailuresPerMinute(_ n: Int) {
        state.withLock { $0.perMinute = max(0, n) }
    }

    public var failuresPerMinute: Int { state.withLock { $0.perMinute } }

    /// Whether `uid` may try a password now.
    public func allows(uid: UInt32) -> Bool {
        let t = now()
        return state.withLock { s in
            guard s.perMinute > 0 else { return true }
            guard let bucket = s.buckets[uid] else { return true }
            return Self.refilled(bucket, at: t, perMinute: s.perMinute).tokens >= 1
        }
    }

    /// Charges `uid` one failed login.
    public func recordFailure(uid: UInt32) {
        let t = now()
        state.withLock { s in
            guard s.perMinute > 0 else { return }
            let capacity = Double(s.perMinute)
            var bucket =
                s.buckets[uid].map { Self.refilled($0, at: t, perMinute: s.perMinute) }
                ?? Bucket(tokens: capacity, updatedNanos: t)
            bucket.tokens = max(bucket.tokens - 1, -60 * capacity)
            s.buckets[uid] = bucket
            if s.buckets.count > 4096 { Self.prune(&s, at: t) }
        }
    }

    /// Buckets tracked (for tests).
    var trackedPeers: Int { state.withLock { $0.buckets.count } }

    private static func refilled(_ bucket: Bucket, at t: UInt64, perMinute: Int) -> Bucket {
        let elapsed = Double(t &- bucket.updatedNanos) / 1e9
        let capacity = Double(perMinute)
        guard t > bucket.updatedNanos else { return bucket }
        return Bucket(tokens: min(capacity, bucket.tokens + elapsed * capacity / 60), updatedNanos: t)
    }

    /// Forgets buckets that have refilled (a full bucket is the same as none).
    private static func prune(_ s: inout State, at t: UInt64) {
        let capacity = Double(s.perMinute)
        let perMinute = s.perMinute
        s.buckets = s.buckets.filter { refilled($0.value, at: t, perMinute: perMinute).tokens < capacity }
    }

    public static let monotonicNanos: @Sendable () -> UInt64 = {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
