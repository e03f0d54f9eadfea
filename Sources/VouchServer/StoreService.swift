import Logging
import ServiceLifecycle
import VouchCore

/// The store and the worker pool as a `Service`: started first, stopped last,
/// after the server has drained, so no answered write is cut short.
final class StoreService: Service {
    let store: SQLiteUserStore
    let pool: WorkerPool
    let logger: Logger

    init(store: SQLiteUserStore, pool: WorkerPool, logger: Logger) {
        self.store = store
        self.pool = pool
        self.logger = logger
    }

    func run() async throws {
        try? await gracefulShutdown()
        pool.shutdown()
        store.checkpointAndClose()
        logger.info("database closed")
    }
}
