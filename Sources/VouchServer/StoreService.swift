import Logging
import ServiceLifecycle
import VouchCore

/// The store and the worker pools as a `Service`: started first, stopped last,
/// after the server has drained, so no answered write is cut short.
final class StoreService: Service {
    let store: SQLiteUserStore
    let pools: [WorkerPool]
    let events: EventRecorder
    let logger: Logger

    init(store: SQLiteUserStore, pools: [WorkerPool], events: EventRecorder, logger: Logger) {
        self.store = store
        self.pools = pools
        self.events = events
        self.logger = logger
    }

    func run() async throws {
        try? await gracefulShutdown()
        for pool in pools { pool.shutdown() }
        events.shutdown()
        store.checkpointAndClose()
        logger.info("database closed")
    }
}

/// Purges expired tokens from memory and disk and records token use, in the
/// background (never on the request path).
final class TokenMaintenanceService: Service {
    let tokens: TokenService
    let pool: WorkerPool
    let interval: Duration

    init(tokens: TokenService, pool: WorkerPool, interval: Duration) {
        self.tokens = tokens
        self.pool = pool
        self.interval = interval
    }

    func run() async throws {
        let tokens = self.tokens
        let pool = self.pool
        let interval = self.interval
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                _ = pool.submit { tokens.maintain() }
            }
        }
        // Record the last uses before the store closes.
        tokens.maintain()
    }
}
