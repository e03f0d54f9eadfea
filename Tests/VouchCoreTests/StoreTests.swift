import Foundation
import Logging
import Testing
import VouchSecrets

@testable import VouchCore

// MARK: - Shared helpers for the store, migration and service tests

/// A fresh temporary directory, removed when the value is dropped.
final class TempDir: Sendable {
    let path: String

    init() {
        var template = Array("/tmp/vouch-store-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            mkdtemp(buffer.baseAddress!).map { String(cString: $0) }
        }
        path = made ?? { preconditionFailure("mkdtemp failed") }()
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    var database: String { path + "/vouch.db" }
}

final class ManualClock: VouchClock {
    let now = Locked<Int64>(1_700_000_000_000)
    func nowMillis() -> Int64 { now.withLock { $0 } }
    func advance(_ ms: Int64) { now.withLock { $0 += ms } }
}

let quietLogger = Logger(label: "vouch.test", factory: { _ in SwiftLogNoOpLogHandler() })

/// argon2id cheap enough for tests.
let cheapHasher = PasswordHasher(parameters: Argon2Parameters(memoryKiB: 1024, iterations: 1))

func fileBytes(_ path: String) -> [UInt8]? {
    FileManager.default.contents(atPath: path).map { Array($0) }
}

func openStore(_ dir: TempDir) throws -> SQLiteUserStore {
    try SQLiteUserStore.open(path: dir.database, migrate: true, logger: quietLogger)
}

func sampleRow(_ name: String, email: String? = nil, at time: Int64 = 1000) -> NewUserRow {
    NewUserRow(
        uuid: UUID(), username: name, email: email, passwordHash: "$argon2id$not-a-real-hash",
        flags: [.active], createdAt: time)
}

// MARK: - SQLiteUserStore

@Suite struct StoreTests {
    @Test func insertAndLoadRoundTripEveryField() throws {
        let dir = TempDir()
        let store = try openStore(dir)
        let first = try store.insert(sampleRow("Alice", email: "Alice@Example.com", at: 1234))
        #expect(first.id >= 1)
        #expect(first.createdAt == 1234 && first.updatedAt == 1234 && first.lastLogin == nil)
        var changed = first
        changed.username = "Alice2"
        changed.email = "a2@example.com"
        changed.passwordHash = "$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA"
        changed.flags = .all
        changed.updatedAt = 5000
        changed.lastLogin = 6000
        changed.failedLogins = 3
        changed.lockedUntil = Int64.max
        try store.update(changed)
        let second = try store.insert(sampleRow("bob", at: 2000))
        #expect(second.id > first.id)
        store.checkpointAndClose()

        let reopened = try openStore(dir)
        defer { reopened.checkpointAndClose() }
        let users = try reopened.loadAllUsers()
        #expect(users == [changed, second])
    }

    @Test func uniqueKeysIgnoreCase() throws {
        let dir = TempDir()
        let store = try openStore(dir)
        defer { store.checkpointAndClose() }
        _ = try store.insert(sampleRow("Alice", email: "alice@example.com"))
        #expect(throws: AccountError(.usernameTaken)) {
            _ = try store.insert(sampleRow("ALICE"))
        }
        #expect(throws: AccountError(.emailTaken)) {
            _ = try store.insert(sampleRow("carol", email: "ALICE@example.COM"))
        }
        #expect(try store.loadAllUsers().count == 1)
    }

    @Test func missingRowsAreNotFound() throws {
        let dir = TempDir()
        let store = try openStore(dir)
        defer { store.checkpointAndClose() }
        var ghost = try store.insert(sampleRow("ghost"))
        try store.delete(id: ghost.id)
        ghost.flags = []
        #expect(throws: AccountError.self) { try store.update(ghost) }
        #expect(throws: AccountError.notFound(.id(ghost.id))) { try store.delete(id: ghost.id) }
        #expect(throws: AccountError.notFound(.id(ghost.id))) {
            try store.updateLogin(id: ghost.id, lastLogin: 1, passwordHash: nil)
        }
    }

    @Test func closedStoreIsUnavailable() throws {
        let dir = TempDir()
        let store = try openStore(dir)
        store.checkpointAndClose()
        do {
            _ = try store.insert(sampleRow("late"))
            Issue.record("insert into a closed store succeeded")
        } catch {
            #expect(error.code == .storageUnavailable)
            #expect(!error.reason.contains("late"))
        }
    }

    @Test func checkConstraintsAreInTheSchema() throws {
        let dir = TempDir()
        let store = try openStore(dir)
        defer { store.checkpointAndClose() }
        let tooLong = String(repeating: "x", count: 101)
        #expect(throws: AccountError.self) { _ = try store.insert(sampleRow(tooLong)) }
        #expect(throws: AccountError.self) { _ = try store.insert(sampleRow("")) }
    }

    @Test func newFileHasMode0600() throws {
        let dir = TempDir()
        let store = try openStore(dir)
        defer { store.checkpointAndClose() }
        var st = stat()
        #expect(stat(dir.database, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)
    }

    @Test func updateLoginStoresRehashInTheSameWrite() throws {
        let dir = TempDir()
        let store = try openStore(dir)
        let user = try store.insert(sampleRow("dana"))
        try store.updateLogin(id: user.id, lastLogin: 9000, passwordHash: "$argon2id$new")
        try store.updateLogin(id: user.id, lastLogin: 9500, passwordHash: nil)
        store.checkpointAndClose()
        let reopened = try openStore(dir)
        defer { reopened.checkpointAndClose() }
        let loaded = try #require(try reopened.loadAllUsers().first)
        #expect(loaded.lastLogin == 9500)
        #expect(loaded.passwordHash == "$argon2id$new")
        #expect(loaded.updatedAt == 9000)
    }
}
