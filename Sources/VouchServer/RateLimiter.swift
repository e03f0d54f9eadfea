import Glibc
import VouchCore

/// A token bucket per key (a request source, a uid, an account): `limit`
/// tokens, refilled continuously over `period`.
///
/// A guarded operation `begin`s, and `end`s saying whether it counts (a
/// wrong password, an invalid token); only those take a token.  Operations
/// in progress hold a claim on a token each: one may begin only while the
/// bucket holds a whole token beyond the claims, so pipelined or concurrent
/// attempts can never overdraw it.  At most `limit` attempts are ever
/// outstanding, the bucket never goes into debt, and the longest wait is one
/// token's refill (`period / limit`).  A key whose bucket is empty is
/// `limited`; one whose tokens are all claimed by operations in progress is
/// `busy` (it may try again as soon as they end).  Buckets that have
/// refilled are forgotten; at most `maxKeys` are tracked, and a new key
/// beyond that is `busy` until some refill (an attacker inventing keys
/// cannot grow memory without bound).
public final class RateLimiter<Key: Hashable & Sendable>: Sendable {
    public enum Admission: Sendable, Equatable {
        case admitted
        /// The key's allowance is used up.
        case limited
        /// The rest of the key's allowance is held by operations in progress.
        case busy
    }

    struct Bucket {
        var tokens: Double
        var updatedNanos: UInt64
        var claims = 0
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

    /// Starts an operation for `key`; when `admitted`, balance with `end`.
    public func begin(_ key: Key) -> Admission {
        let t = now()
        return state.withLock { s in
            guard s.limit > 0 else { return .admitted }
            var bucket: Bucket
            if let b = s.buckets[key] {
                bucket = refilled(b, at: t, limit: s.limit)
            } else {
                if s.buckets.count >= maxKeys { prune(&s, at: t) }
                guard s.buckets.count < maxKeys else { return .busy }
                bucket = Bucket(tokens: Double(s.limit), updatedNanos: t)
            }
            if bucket.tokens < 1 {
                s.buckets[key] = bucket
                return .limited
            }
            guard bucket.tokens - Double(bucket.claims) >= 1 else { return .busy }
            bucket.claims += 1
            s.buckets[key] = bucket
            return .admitted
        }
    }

    /// Ends an operation `begin` admitted; `counted` takes its token.
    public func end(_ key: Key, counted: Bool) {
        let t = now()
        state.withLock { s in
            guard var bucket = s.buckets[key] else { return }
            bucket = refilled(bucket, at: t, limit: s.limit)
            bucket.claims = max(0, bucket.claims - 1)
            if counted { bucket.tokens = max(0, bucket.tokens - 1) }
            if bucket.claims == 0, bucket.tokens >= Double(s.limit) {
                s.buckets[key] = nil
            } else {
                s.buckets[key] = bucket
            }
        }
    }

    /// An operation that always counts (a token request): begins and ends it.
    public func take(_ key: Key) -> Bool {
        guard begin(key) == .admitted else { return false }
        end(key, counted: true)
        return true
    }

    /// Gives back a token an earlier operation took (it turned out not to count).
    public func refund(_ key: Key) {
        let t = now()
        state.withLock { s in
            guard let b = s.buckets[key] else { return }
            var bucket = refilled(b, at: t, limit: s.limit)
            bucket.tokens = min(Double(s.limit), bucket.tokens + 1)
            s.buckets[key] = bucket
        }
    }

    /// Buckets tracked (for tests).
    var trackedKeys: Int { state.withLock { $0.buckets.count } }

    private func refilled(_ bucket: Bucket, at t: UInt64, limit: Int) -> Bucket {
        guard t > bucket.updatedNanos, limit > 0 else { return bucket }
        let elapsed = Double(t - bucket.updatedNanos) / 1e9
        let capacity = Double(limit)
        var b = bucket
        b.tokens = min(capacity, bucket.tokens + elapsed * capacity / periodSeconds)
        b.updatedNanos = t
        return b
    }

    /// Forgets buckets that have refilled and have nothing in progress.
    private func prune(_ s: inout State, at t: UInt64) {
        let limit = s.limit
        s.buckets = s.buckets.filter {
            $0.value.claims > 0 || refilled($0.value, at: t, limit: limit).tokens < Double(limit)
        }
    }
}

/// A monotonic clock in nanoseconds (CLOCK_MONOTONIC).
public let monotonicNanos: @Sendable () -> UInt64 = {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
