import Foundation
import Logging
import VouchCore
import VouchProtocol
import VouchSecrets

@testable import VouchServer

/// A clock tests move by hand.
final class TestClock: VouchClock {
    private let now = Locked<Int64>(1_700_000_000_000)
    func nowMillis() -> Int64 { now.withLock { $0 } }
    func advance(millis: Int64) { now.withLock { $0 += millis } }
}

/// Silent, unless VOUCH_TEST_LOG is set (then on standard error).
let quietLogger = Logger(
    label: "vouch.test",
    factory: { label in
        guard ProcessInfo.processInfo.environment["VOUCH_TEST_LOG"] != nil else { return SwiftLogNoOpLogHandler() }
        return StreamLogHandler.standardError(label: label)
    })

/// vouchd's request path without a socket or a process: the core over a
/// SQLite database in a temporary directory, with a clock the test moves,
/// behind the real `Dispatcher` and worker pools.
final class InProcessServer {
    let directory: String
    let clock = TestClock()
    let store: SQLiteUserStore
    let dispatcher: Dispatcher
    private let pools: [WorkerPool]
    private var nextID: UInt32 = 1

    /// An unprivileged peer and an admin one.
    static let user = PeerContext(credentials: PeerCredentials(pid: 4242, uid: 4242, gid: 4242), isAdmin: false)
    static let admin = PeerContext(credentials: PeerCredentials(pid: 1, uid: 0, gid: 0), isAdmin: true)

    /// `hooks`: a hooks directory (`hooks_dir`), or none.
    init(config: VouchConfig = InProcessServer.config(), hooks: String? = nil) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("vouch-inproc-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        store = try SQLiteUserStore.open(path: directory + "/vouch.db", migrate: true, logger: quietLogger)
        let accounts = AccountService(
            store: store, hasher: PasswordHasher(parameters: config.argon2), policy: PasswordPolicy(config: config),
            clock: clock, logger: quietLogger, lockout: LockoutPolicy(config: config))
        let tokens = TokenService(
            store: store,
            settings: TokenSettings(config: config),
            clock: clock, logger: quietLogger)
        let logins = LoginService(
            accounts: accounts, store: store, settings: LoginSettings(config: config), clock: clock,
            logger: quietLogger)
        try accounts.load(alongside: { try tokens.load() })
        try logins.load()
        let events = EventRecorder(
            store: store, hooks: HookRunner(directory: hooks, timeoutMillis: 1000, logger: quietLogger),
            hookConcurrency: 1, logger: quietLogger)
        let flows = AccountFlows(
            accounts: accounts, tokens: tokens, events: events, clock: clock, logger: quietLogger, logins: logins)
        let pool = WorkerPool(threads: 2, queueLimit: 64, queuePerSource: 32, name: "test-hash")
        let tokenPool = WorkerPool(threads: 1, queueLimit: 64, queuePerSource: 8, name: "test-token")
        pools = [pool, tokenPool]
        dispatcher = Dispatcher(
            flows: flows, pool: pool, metrics: ServerMetrics(), authorizer: Authorizer(daemonUID: 0, adminGID: nil),
            maxFrameBytes: config.maxFrameBytes, logger: quietLogger,
            data: DataService(accounts: accounts, store: store, clock: clock), limits: RequestLimits(config: config),
            tokenPool: tokenPool)
    }

    /// The daemon's defaults, with argon2id cheap enough for tests.
    static func config() -> VouchConfig {
        var config = VouchConfig()
        config.argon2 = Argon2Parameters(memoryKiB: 1024, iterations: 1, parallelism: 1)
        return config
    }

    deinit {
        for pool in pools { pool.shutdown() }
        store.checkpointAndClose()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// What the dispatcher did with `request` and the response frame the
    /// peer reads, decoded.
    struct Answer {
        var deferred: Bool
        var response: ResponseMessage
    }

    func answer(_ request: Request, as peer: PeerContext = InProcessServer.admin) async -> Answer {
        let id = nextID
        nextID += 1
        let sink = OneResponseSink()
        let outcome = dispatcher.handle(id: id, request: request, peer: peer, sink: sink)
        let frame: [UInt8]
        var deferred = false
        if case .deferred = outcome {
            deferred = true
            frame = await sink.frame()
        } else {
            frame = Dispatcher.encode(id, request.opcode, outcome)
        }
        let response = frame.dropFirst(4).withUnsafeBytes { try! ResponseMessage.decode(payload: $0) }
        return Answer(deferred: deferred, response: response)
    }

    /// The reply of an `ok` answer, or the failure's status and message as an error.
    func reply(_ request: Request, as peer: PeerContext = InProcessServer.admin) async throws -> Reply {
        let response = await answer(request, as: peer).response
        guard response.status == .ok, let reply = response.reply else {
            throw Refused(status: response.status, message: response.message)
        }
        return reply
    }

    struct Refused: Error, Equatable {
        var status: Status
        var message: String
    }
}

/// Waits for the one response a deferred request delivers from its worker.
final class OneResponseSink: ResponseSink, @unchecked Sendable {
    private let lock = NSLock()
    private var delivered: [UInt8]?
    private var waiter: CheckedContinuation<[UInt8], Never>?

    func deliver(_ frame: [UInt8], requestID: UInt32) {
        lock.lock()
        if let waiter {
            self.waiter = nil
            lock.unlock()
            waiter.resume(returning: frame)
        } else {
            delivered = frame
            lock.unlock()
        }
    }

    func frame() async -> [UInt8] {
        await withCheckedContinuation { continuation in
            lock.lock()
            if let delivered {
                lock.unlock()
                continuation.resume(returning: delivered)
            } else {
                waiter = continuation
                lock.unlock()
            }
        }
    }
}
