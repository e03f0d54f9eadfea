import Logging
import ServiceLifecycle
import UnixSignals
import VouchCore

/// SIGHUP: re-read the config file and apply what can change at runtime
/// (the log level, password policy and hashing cost); report what cannot.
/// Connections are not touched.
final class ReloadService: Service {
    let configPath: String?
    let current: VouchConfig
    let apply: @Sendable (VouchConfig) -> Void
    let notifier: SystemdNotifier
    let logger: Logger

    init(
        configPath: String?, current: VouchConfig, notifier: SystemdNotifier, logger: Logger,
        apply: @escaping @Sendable (VouchConfig) -> Void
    ) {
        self.configPath = configPath
        self.current = current
        self.notifier = notifier
        self.logger = logger
        self.apply = apply
    }

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        var active = current
        for await _ in signals.cancelOnGracefulShutdown() {
            notifier.reloading()
            active = reload(from: active)
            notifier.ready(status: "serving")
        }
    }

    private func reload(from active: VouchConfig) -> VouchConfig {
        guard let configPath else {
            logger.notice("reload: no config file; nothing to re-read")
            return active
        }
        let loaded: VouchConfig
        do {
            loaded = try ConfigLoader.load(path: configPath)
        } catch {
            logger.error("reload failed; keeping the running configuration", metadata: ["error": "\(error)"])
            return active
        }
        var next = loaded
        // What cannot change without a restart is kept, and said so.
        let fixed: [(String, Bool)] = [
            ("socket_path", loaded.socketPath != active.socketPath),
            ("socket_mode", loaded.socketMode != active.socketMode),
            ("socket_group", loaded.socketGroup != active.socketGroup),
            ("database_path", loaded.databasePath != active.databasePath),
            ("worker_threads", loaded.workerThreads != active.workerThreads),
            ("worker_queue_limit", loaded.workerQueueLimit != active.workerQueueLimit),
            ("max_frame_bytes", loaded.maxFrameBytes != active.maxFrameBytes),
            ("max_connections", loaded.maxConnections != active.maxConnections),
            ("max_connections_per_uid", loaded.maxConnectionsPerUID != active.maxConnectionsPerUID),
            ("idle_timeout", loaded.idleTimeout != active.idleTimeout),
            ("max_requests_in_flight", loaded.maxRequestsInFlight != active.maxRequestsInFlight),
        ]
        let kept = fixed.filter(\.1).map(\.0)
        if !kept.isEmpty {
            logger.warning("reload: these keys need a restart; keeping their running values", metadata: ["keys": "\(kept.joined(separator: ","))"])
        }
        next.socketPath = active.socketPath
        next.socketMode = active.socketMode
        next.socketGroup = active.socketGroup
        next.databasePath = active.databasePath
        next.workerThreads = active.workerThreads
        next.workerQueueLimit = active.workerQueueLimit
        next.maxFrameBytes = active.maxFrameBytes
        next.maxConnections = active.maxConnections
        next.maxConnectionsPerUID = active.maxConnectionsPerUID
        next.idleTimeout = active.idleTimeout
        next.maxRequestsInFlight = active.maxRequestsInFlight
        apply(next)
        logger.notice("configuration reloaded", metadata: ["file": "\(configPath)"])
        return next
    }
}
