import CVouchSys
import Glibc
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import VouchCore
import VouchProtocol

/// Why the daemon could not start: one line naming the file and the problem.
public struct DaemonStartupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Assembles vouchd: store → cache → server, as services of one
/// `ServiceGroup`, started in that order and stopped in reverse.
public enum VouchDaemon {
    /// Runs until SIGTERM or SIGINT.  `configPath` is re-read on SIGHUP, with
    /// `overrides` (the command line's) applied again.
    public static func run(
        config: VouchConfig, configPath: String?, overrides: ConfigOverrides = ConfigOverrides(),
        clock: any VouchClock = SystemClock(), logger: Logger
    ) async throws {
        if cvouch_disable_core_dumps() != 0 {
            logger.warning("could not disable core dumps", metadata: ["errno": "\(errno)"])
        }
        // vouchd's own NSS lookups (uid allocation) never ask its own userdb service.
        setenv("SYSTEMD_BYPASS_USERDB", HostAccounts.userdbService, 1)
        let notifier = SystemdNotifier()
        let inheritedFD: Int32?
        var inheritedUserdbFD: Int32?
        do {
            (inheritedFD, inheritedUserdbFD) = try ListenSockets.inheritUnixSockets(userdbPath: config.userdbSocket)
        } catch {
            throw DaemonStartupError("socket activation: \(error)")
        }
        let servesUserdb = UserdbServer.isEnabled(config, socketPassed: inheritedUserdbFD != nil)
        if !servesUserdb, let fd = inheritedUserdbFD {
            logger.warning("userdb = no: closing the io.systemd.UserDatabase socket systemd passed")
            close(fd)
            inheritedUserdbFD = nil
        }

        if inheritedFD == nil {
            // Before the database is touched: a daemon already answering on the socket keeps it.
            do {
                try SocketFile.prepareToBind(config.socketPath)
            } catch {
                throw DaemonStartupError(error.description)
            }
        }
        notifier.status("opening \(config.databasePath)")
        // One vouchd per database: held until the process exits (the kernel drops it even after kill -9).
        let databaseLock: DatabaseLock
        do {
            databaseLock = try DatabaseLock(databasePath: config.databasePath)
        } catch {
            throw DaemonStartupError(error.message)
        }
        defer { withExtendedLifetime(databaseLock) {} }
        let store: SQLiteUserStore
        do {
            store = try SQLiteUserStore.open(
                path: config.databasePath, migrate: true,
                busyTimeoutMillis: Int32(clamping: config.databaseBusyTimeout * 1000), logger: logger,
                deferIntegrityCheck: true)
        } catch {
            throw DaemonStartupError("\(config.databasePath): \(error.message)")
        }
        let accounts = AccountService(
            store: store, hasher: PasswordHasher(parameters: config.argon2),
            policy: PasswordPolicy(config: config), clock: clock, logger: logger,
            lockout: LockoutPolicy(config: config))
        let tokens = TokenService(
            store: store,
            settings: TokenSettings(config: config),
            clock: clock, logger: logger)
        notifier.status("loading users and tokens")
        // The whole-file check of a database that opening did not write to
        // runs alongside the load; nothing writes before it has passed.
        let integrity =
            store.integrityCheckDeferred
            ? BackgroundJob {
                let started = ContinuousClock.now
                try store.checkIntegrity()
                logger.info(
                    "database check passed", metadata: ["ms": "\((ContinuousClock.now - started).milliseconds)"])
            } : nil
        let logins = LoginService(
            accounts: accounts, store: store, settings: LoginSettings(config: config), clock: clock, logger: logger)
        var loadError: (any Error)?
        do {
            // Tokens stream in from the database while the user indexes are built.
            try accounts.load(alongside: { try tokens.load() })
            try logins.load()
        } catch {
            loadError = error
        }
        // Waited for in any case: a corrupt file explains a failed load better
        // than the load's own error, and must get nothing written to it.
        do {
            try integrity?.wait()
        } catch {
            store.closeWithoutCheckpoint()
            throw DaemonStartupError("\(config.databasePath): \(error)")
        }
        if let loadError {
            store.checkpointAndClose()
            throw DaemonStartupError("\(config.databasePath): cannot load users and tokens: \(loadError)")
        }
        let users = accounts.userCount
        notifier.status("loaded \(users) users")
        let events = EventRecorder(
            store: store,
            hooks: HookRunner(directory: config.hooksDir, timeoutMillis: config.hookTimeout * 1000, logger: logger),
            hookConcurrency: config.hookConcurrency, logger: logger)
        let flows = AccountFlows(
            accounts: accounts, tokens: tokens, events: events, clock: clock,
            revokeSessionsOnPasswordChange: config.revokeSessionsOnPasswordChange,
            logUnknownUsernames: config.logUnknownUsernames, logger: logger, logins: logins)

        let pool = WorkerPool(
            threads: config.workerThreads, queueLimit: config.workerQueueLimit,
            queuePerSource: config.workerQueuePerSource, name: "vouch-hash")
        // forgot_password and request_verify: database writes and hooks, never in the way of logins.
        let tokenPool = WorkerPool(threads: 1, queueLimit: 64, queuePerSource: 8, name: "vouch-token")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let metrics = ServerMetrics()
        let authorizer = Authorizer(adminGroup: config.adminGroup)
        let limits = RequestLimits(config: config)
        let dispatcher = Dispatcher(
            flows: flows, pool: pool, metrics: metrics, authorizer: authorizer,
            maxFrameBytes: config.maxFrameBytes, logger: logger,
            data: DataService(accounts: accounts, store: store), limits: limits, tokenPool: tokenPool)
        var listener = ListenerOptions(
            socketPath: config.socketPath, socketMode: config.socketMode, socketGroup: config.socketGroup,
            inheritedFD: inheritedFD, maxFrameBytes: config.maxFrameBytes)
        listener.maxRequestsInFlight = config.maxRequestsInFlight
        listener.maxConnections = FileLimit.fitConnections(config.maxConnections, logger: logger)
        listener.maxConnectionsPerUID = config.maxConnectionsPerUID
        listener.reservedConnections = config.reservedConnections
        listener.idleTimeoutSeconds = config.idleTimeout

        let server = SocketServer(
            options: listener, dispatcher: dispatcher, authorizer: authorizer, group: group, logger: logger,
            onListening: {
                notifier.ready(status: "serving \(users) users")
            },
            onDraining: {
                notifier.stopping()
                notifier.status("draining")
            })

        // The watchdog is pinged from the event loop itself, so a wedged loop gets us restarted.
        let watchdog = notifier.watchdogInterval.map { interval in
            group.next().scheduleRepeatedTask(initialDelay: .zero, delay: TimeAmount(interval)) { _ in
                notifier.watchdogPing()
            }
        }
        // Counted log lines (rate limited, busy, refused) summarised once per interval.
        let repeatFlush = group.next().scheduleRepeatedTask(
            initialDelay: TimeAmount(RepeatLog.interval), delay: TimeAmount(RepeatLog.interval)
        ) { _ in dispatcher.repeats.flush() }

        let reload = ReloadService(
            configPath: configPath, overrides: overrides, current: config, notifier: notifier, logger: logger
        ) {
            next in
            LoggingSetup.level = next.loggerLevel
            accounts.reconfigure(
                hasher: PasswordHasher(parameters: next.argon2),
                policy: PasswordPolicy(config: next))
            accounts.setLockoutPolicy(LockoutPolicy(config: next))
            limits.reconfigure(next)
            logins.reconfigure(LoginSettings(config: next))
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: StoreService(store: store, pools: [tokenPool, pool], events: events, logger: logger)),
            .init(service: TokenMaintenanceService(tokens: tokens, pool: pool, interval: .seconds(60))),
            .init(service: reload),
        ]
        if servesUserdb {
            services.append(
                .init(
                    service: UserdbServer(
                        options: .init(socketPath: config.userdbSocket, inheritedFD: inheritedUserdbFD), logins: logins,
                        group: group, repeats: dispatcher.repeats, logger: logger)))
        }
        services.append(.init(service: server))
        let serviceGroup = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await serviceGroup.run()
        } catch {
            watchdog?.cancel()
            repeatFlush.cancel()
            try? await group.shutdownGracefully()
            throw error
        }
        watchdog?.cancel()
        repeatFlush.cancel()
        dispatcher.repeats.flush()
        try? await group.shutdownGracefully()
        logger.info("stopped")
    }

    /// `vouchd migrate`: runs pending migrations and returns a report: one
    /// line, then one per username that begins with '-' (no longer accepted
    /// for new users; the existing ones keep working).
    public static func migrate(databasePath: String, logger: Logger) throws -> String {
        do {
            let databaseLock = try DatabaseLock(databasePath: databasePath)
            defer { withExtendedLifetime(databaseLock) {} }
            let store: SQLiteUserStore
            let report: String
            do {
                store = try SQLiteUserStore.open(path: databasePath, migrate: false, logger: logger)
                report = "\(databasePath): schema is up to date (version \((try? store.schemaVersion()) ?? 0))"
            } catch let error where error.kind == .migrationPending {
                store = try SQLiteUserStore.open(path: databasePath, migrate: true, logger: logger)
                report = "\(databasePath): migrated to schema version \((try? store.schemaVersion()) ?? 0)"
            }
            defer { store.checkpointAndClose() }
            let dashed = (try? store.usernamesBeginningWithDash()) ?? []
            let notes = dashed.map {
                "\(databasePath): username \"\($0)\" begins with '-': new users may not; it still works, "
                    + "but give it after `--` on command lines (vouchctl login -- \($0))"
            }
            return ([report] + notes).joined(separator: "\n")
        } catch {
            throw DaemonStartupError("\(databasePath): \(error.message)")
        }
    }
}
