import VouchCore

/// The per-source limits the dispatcher applies before doing work for a
/// peer (see docs/SECURITY.md, "Denial of service").
public final class RequestLimits: Sendable {
    /// Failed password checks (login, change_password) and unknown names
    /// asked of account_status, per `RequestSource` (`login_failures_per_minute`).
    public let passwordFailures: RateLimiter<RequestSource>
    /// forgot_password and request_verify per peer uid (`token_requests_per_minute`).
    public let tokenRequests: RateLimiter<UInt32>
    /// Reset and verification tokens issued per account (`token_requests_per_account_per_hour`).
    public let tokenRequestsPerAccount: RateLimiter<Int64>
    /// Failed reset_password and verify_email per peer uid (`token_failures_per_minute`).
    public let tokenFailures: RateLimiter<UInt32>

    public init(config: VouchConfig, now: @escaping @Sendable () -> UInt64 = monotonicNanos) {
        passwordFailures = RateLimiter(limit: config.loginFailuresPerMinute, now: now)
        tokenRequests = RateLimiter(limit: config.tokenRequestsPerMinute, now: now)
        tokenRequestsPerAccount = RateLimiter(
            limit: config.tokenRequestsPerAccountPerHour, periodSeconds: 3600, now: now)
        tokenFailures = RateLimiter(limit: config.tokenFailuresPerMinute, now: now)
    }

    /// No limits at all.
    public static func off() -> RequestLimits {
        var config = VouchConfig()
        config.loginFailuresPerMinute = 0
        config.tokenRequestsPerMinute = 0
        config.tokenRequestsPerAccountPerHour = 0
        config.tokenFailuresPerMinute = 0
        return RequestLimits(config: config)
    }

    /// New rates on reload; buckets keep their balance.
    public func reconfigure(_ config: VouchConfig) {
        passwordFailures.setLimit(config.loginFailuresPerMinute)
        tokenRequests.setLimit(config.tokenRequestsPerMinute)
        tokenRequestsPerAccount.setLimit(config.tokenRequestsPerAccountPerHour)
        tokenFailures.setLimit(config.tokenFailuresPerMinute)
    }
}
