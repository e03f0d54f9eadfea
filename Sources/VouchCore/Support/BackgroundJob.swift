import Dispatch

/// A piece of blocking work started on another thread at once and waited for
/// later (used at start-up, before the worker pool and event loop run).
public final class BackgroundJob: Sendable {
    private let group = DispatchGroup()
    private let failure = Locked<(any Error)?>(nil)

    public init(_ work: @escaping @Sendable () throws -> Void) {
        let failure = self.failure
        DispatchQueue.global().async(group: group) {
            do {
                try work()
            } catch {
                failure.withLock { $0 = error }
            }
        }
    }

    /// Waits for the work to finish; rethrows its error.
    public func wait() throws {
        group.wait()
        if let error = failure.withLock({ $0 }) { throw error }
    }
}
