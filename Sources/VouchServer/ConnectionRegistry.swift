import NIOCore
import Synchronization
import VouchCore

/// Every open connection and the number of requests in flight across them,
/// so a graceful stop can wait for in-flight work before closing.
final class ConnectionRegistry: Sendable {
    private let channels = Locked<[ObjectIdentifier: any Channel]>([:])
    private let inFlight = Atomic<Int>(0)
    private let metrics: ServerMetrics

    init(metrics: ServerMetrics) { self.metrics = metrics }

    func add(_ channel: any Channel) {
        channels.withLock { $0[ObjectIdentifier(channel)] = channel }
        metrics.connections.add(1, ordering: .relaxed)
        channel.closeFuture.whenComplete { [self] _ in
            channels.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(channel)) }
            metrics.connections.subtract(1, ordering: .relaxed)
        }
    }

    var count: Int { channels.withLock { $0.count } }

    func requestStarted() { inFlight.add(1, ordering: .relaxed) }
    func requestsFinished(_ n: Int) { if n > 0 { inFlight.subtract(n, ordering: .relaxed) } }
    var requestsInFlight: Int { inFlight.load(ordering: .relaxed) }

    /// Waits (up to `timeout`) for in-flight requests to be answered, then closes every connection.
    func drain(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while requestsInFlight > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        // Give the loops a moment to flush the last answers.
        try? await Task.sleep(for: .milliseconds(20))
        let open = channels.withLock { Array($0.values) }
        for channel in open { channel.close(promise: nil) }
    }
}
