import Glibc
import VouchCore

/// A token bucket per key (a request source, a uid, an account): `limit`
/// tokens, refilled continuously over `period`.
///
/// A guarded operation takes a token before it starts (`take`), and gives it
/// back when it turns out not to count (`giveBack`: a correct password, a
/// valid token).  Taking first means pipelined or concurrent attempts can
/// never overdraw the bucket: at most `limit` attempts are ever outstanding,
/// and the longest wait is one token's refill (`period / limit`), never a
/// debt run up by a burst.  Buckets that have refilled are forgotten; at most
/// `maxKeys` are tracked, and a new key beyond that is refused until some
/// refill (an attacker inventing keys cannot grow memory without bound).
public final class RateLimiter<Key: Hashable & Sendable>: Sendable {
    struct Bucket {
        var tokens: Double
        var updatedNanos: UInt64
    }

    private struct State {
        var limit: Int
        var buckets: [Key: Bucket] = [:]
    }

    private let state: Locked<State>
    private let periodSeconds: Double
    private let maxKeys: Int
    private let now: @Sendable () -> UInt64

    /// `limit` 0 turns the limit off.  `now` is a monotonic clock in nanoseconds.
    public init(
        limit: Int, periodSeconds: Double = 60, maxKeys: Int = 65536,
        now: @escaping @Sendable () -> UInt64 = monotonicNanos
    ) {
        self.state = Locked(State(limit: max(0, limit)))
        self.periodSeconds = periodSeconds
        self.maxKeys = max(1, maxKeys)
        self.now = now
    }

    /// Changes the limit (on reload); buckets keep their balance.
    public func setLimit(_ n: Int) {
        state.withLock { $0.limit = max(0, n) }
    }

    public var limit: Int { state.withLock { $0.limit } }

    /// Takes a token for `key`; false (nothing taken) when its bucket is empty.
    public func take(_ key: Key) -> Bool {
        let t = now()
        return state.withLock { s in
            guard s.limit > 0 else { return true }
            var bucket: Bucket
            if let b = s.buckets[key] {
                bucket = refilled(b, at: t, limit: s.limit)
            } else {
                if s.buckets.count >= maxKeys { prune(&s, at: t) }
                guard s.buckets.count < maxKeys else { return false }
                bucket = Bucket(tokens: Double(s.limit), updatedNanos: t)
            }
            guard bucket.tokens >= 1 else {
                s.buckets[key] = bucket
                return false
            }
            bucket.tokens -= 1
            s.buckets[key] = bucket
            return true
        }
    }

    /// Returns a token taken for an operation that did not count.
    public func giveBack(_ key: Key) {
        let t = now()
        state.withLock { s in
            guard s.limit > 0, let b = s.buckets[key] else { return }
            var bucket = refilled(b, at: t, limit: s.limit)
            bucket.tokens = min(Double(s.limit), bucket.tokens + 1)
            if bucket.tokens >= Double(s.limit) {
                s.buckets[key] = nil
            } else {
                s.buckets[key] = bucket
            }
        }
    }

    /// Buckets tracked (for tests).
    var trackedKeys: Int { state.withLock { $0.buckets.count } }

    private func refilled(_ bucket: Bucket, at t: UInt64, limit: Int) -> Bucket {
        guard t > bucket.updatedNanos else { return bucket }
        let elapsed = Double(t - bucket.updatedNanos) / 1e9
        let capacity = Double(limit)
        return Bucket(tokens: min(capacity, bucket.tokens + elapsed * capacity / periodSeconds), updatedNanos: t)
    }

    /// Forgets buckets that have refilled (a full bucket is the same as none).
    private func prune(_ s: inout State, at t: UInt64) {
        let limit = s.limit
        s.buckets = s.buckets.filter { refilled($0.value, at: t, limit: limit).tokens < Double(limit) }
    }
}

/// A monotonic clock in nanoseconds (CLOCK_MONOTONIC).
public let monotonicNanos: @Sendable () -> UInt64 = {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
