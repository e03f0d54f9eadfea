import Foundation
import Testing
import VouchClient
import VouchProtocol

/// What the writers saw acknowledged, and the one write per user that was
/// in flight when vouchd was killed (it may or may not have landed).
/// Guarded by an NSLock (pthread mutex) rather than `Synchronization.Mutex`,
/// whose futex ThreadSanitizer does not see.
final class Ledger: @unchecked Sendable {
    struct State {
        var acknowledged: [String: String] = [:]
        var inFlight: [String: String] = [:]
        var writes = 0
    }
    private let lock = NSLock()
    private var _state = State()
    private func withState<R>(_ body: (inout State) -> R) -> R { lock.withLock { body(&_state) } }

    func begin(_ user: String, _ password: String) { withState { $0.inFlight[user] = password } }
    func acknowledge(_ user: String, _ password: String) {
        withState {
            $0.acknowledged[user] = password
            $0.inFlight[user] = nil
            $0.writes += 1
        }
    }
    var snapshot: State { withState { $0 } }
    func settle(_ user: String, password: String?) {
        withState {
            $0.inFlight[user] = nil
            if let password { $0.acknowledged[user] = password }
        }
    }
}

@Suite(.serialized) struct CrashSafetyTests {
    /// Writers create users and change passwords as fast as they can while
    /// vouchd is killed with SIGKILL at random moments.  After each kill the
    /// file passes `PRAGMA integrity_check`, vouchd starts without help, and
    /// every acknowledged write is there (the acknowledged password logs in).
    @Test(.timeLimit(.minutes(3))) func acknowledgedWritesSurviveKill9() async throws {
        let daemon = try await TestDaemon()
        let ledger = Ledger()
        for round in 0..<5 {
            let writers = Task {
                await withTaskGroup(of: Void.self) { group in
                    for w in 0..<4 {
                        group.addTask { await Self.write(daemon: daemon, ledger: ledger, prefix: "r\(round)w\(w)") }
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 300...1200)))
            daemon.kill9()
            await writers.value

            #expect(try integrityCheck(daemon.databasePath) == "ok", "round \(round)")
            try await daemon.start()
            try await Self.verify(daemon: daemon, ledger: ledger, round: round)
        }
        let final = ledger.snapshot
        #expect(final.writes > 20, "only \(final.writes) acknowledged writes: the test did not exercise much")
        daemon.stop()
        #expect(try integrityCheck(daemon.databasePath) == "ok")
    }

    /// Creates users and sets their passwords until the connection dies.
    static func write(daemon: TestDaemon, ledger: Ledger, prefix: String) async {
        guard let client = try? await daemon.client(timeout: .seconds(10)) else { return }
        defer { Task { await client.close() } }
        var mine: [String] = []
        var n = 0
        while true {
            n += 1
            let password = "pw \(UUID().uuidString.prefix(12))"
            if mine.isEmpty || Bool.random() {
                let name = "\(prefix)n\(n)"
                ledger.begin(name, password)
                do {
                    _ = try await client.createUser(username: name, password: .text(password))
                } catch {
                    return
                }
                ledger.acknowledge(name, password)
                mine.append(name)
            } else {
                let name = mine.randomElement()!
                ledger.begin(name, password)
                do {
                    try await client.setPassword(.username(name), password: .text(password))
                } catch {
                    return
                }
                ledger.acknowledge(name, password)
            }
        }
    }

    static func verify(daemon: TestDaemon, ledger: Ledger, round: Int) async throws {
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        let state = ledger.snapshot
        for (user, password) in state.acknowledged {
            if (try? await client.login(username: user, password: .text(password))) != nil {
                ledger.settle(user, password: nil)
                continue
            }
            // Only the write in flight at the kill may have replaced it.
            let other = state.inFlight[user]
            var landed = false
            if let other { landed = (try? await client.login(username: user, password: .text(other))) != nil }
            #expect(landed, "round \(round): \(user) lost its acknowledged password")
            ledger.settle(user, password: landed ? other : nil)
        }
        // Creations in flight: either the user exists with that password, or not at all.
        for (user, password) in state.inFlight where state.acknowledged[user] == nil {
            if (try? await client.login(username: user, password: .text(password))) != nil {
                ledger.settle(user, password: password)
            } else {
                let error = await refusalError { () async throws(VouchClientError) in
                    try await client.user(.username(user))
                }
                #expect(error?.status == .notFound, "round \(round): \(user) half-created")
                ledger.settle(user, password: nil)
            }
        }
    }
}
