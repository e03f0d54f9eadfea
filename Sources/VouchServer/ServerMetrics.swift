import Synchronization
import VouchCore

/// Counters for `status`, updated without locks.
public final class ServerMetrics: Sendable {
    let startedAt: ContinuousClock.Instant = .now
    let requestsServed = Atomic<Int64>(0)
    let connections = Atomic<Int64>(0)

    public init() {}

    public var uptimeMillis: Int64 { (ContinuousClock.now - startedAt).milliseconds }
    public var requests: Int64 { requestsServed.load(ordering: .relaxed) }
    public var openConnections: Int64 { connections.load(ordering: .relaxed) }
}
