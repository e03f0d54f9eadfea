import Testing
import VouchSecrets

@testable import VouchCore

/// A store whose writes fail while `failing` is set (a full or read-only disk).
final class FailingStore: UserStore {
    let base: any UserStore
    let failing = Locked(false)

    init(_ base: any UserStore) { self.base = base }

    private func check() throws(AccountError) {
        if failing.withLock({ $0 }) { throw AccountError(.storageUnavailable, "disk full") }
    }

    func loadAllUsers() throws(AccountError) -> [User] { try base.loadAllUsers() }
    func insert(_ row: NewUserRow) throws(AccountError) -> User {
        try check()
        return try base.insert(row)
    }
    func update(_ user: User) throws(AccountError) {
        try check()
        try base.update(user)
    }
    func updateLogin(id: Int64, lastLogin: Int64, passwordHash: String?) throws(AccountError) {
        try check()
        try base.updateLogin(id: id, lastLogin: lastLogin, passwordHash: passwordHash)
    }
    func recordLogin(_ user: User, wholeRow: Bool, rehashed: Bool, session: TokenRecord?)
        throws(AccountError) -> TokenRecord?
    {
        try check()
        return try base.recordLogin(user, wholeRow: wholeRow, rehashed: rehashed, session: session)
    }
    func delete(id: Int64) throws(AccountError) {
        try check()
        try base.delete(id: id)
    }
    func importUsers(inserts: [User], updates: [User]) throws(AccountError) -> [User] {
        try check()
        return try base.importUsers(inserts: inserts, updates: updates)
    }
    func checkpointAndClose() { base.checkpointAndClose() }
}

/// Item 6 of issue 12: a database that cannot be written must not switch
/// the lockout off.
@Suite struct LockoutWithoutStorageTests {
    let policy = LockoutPolicy(deny: 3, failIntervalMillis: 15 * 60_000, unlockTimeMillis: 10 * 60_000)

    func fixture() throws -> (dir: TempDir, store: FailingStore, service: AccountService) {
        let dir = TempDir()
        let store = FailingStore(try openStore(dir))
        let service = AccountService(
            store: store, hasher: cheapHasher, policy: PasswordPolicy(), clock: ManualClock(), logger: quietLogger,
            lockout: policy)
        try service.load()
        _ = try service.createUser(
            username: "alice", email: nil, password: secret("correct horse"), flags: [.active])
        return (dir, store, service)
    }

    func fail(_ service: AccountService, times: Int) {
        for _ in 0..<times {
            expectCode(.invalidCredentials) {
                _ = try service.login(username: "alice", password: secret("wrong horse"))
            }
        }
    }

    @Test func failuresAreCountedInMemoryWhenTheDatabaseCannotBeWritten() throws {
        let f = try fixture()
        f.store.failing.withLock { $0 = true }
        fail(f.service, times: 3)
        #expect(try f.service.user(.name("alice")).failedLogins == 3)
        #expect(try f.service.accountState(username: "alice") == .locked)
        expectCode(.locked) { _ = try f.service.login(username: "alice", password: secret("correct horse")) }

        // Space returns: the next write of the user carries the lock to disk.
        f.store.failing.withLock { $0 = false }
        _ = try f.service.updateUser(.name("alice"), email: .some("alice@example.com"), setFlags: [], flagValues: [])
        let onDisk = try #require(try f.store.loadAllUsers().first { $0.username == "alice" })
        #expect(onDisk.failedLogins == 3)
        #expect(onDisk.lockedUntil != nil)
    }

    @Test func aRightPasswordClearsTheInMemoryCountWhenTheDatabaseCannotBeWritten() throws {
        let f = try fixture()
        f.store.failing.withLock { $0 = true }
        fail(f.service, times: 2)
        #expect(try f.service.login(username: "alice", password: secret("correct horse")).failedLogins == 0)
        #expect(try f.service.user(.name("alice")).failedLogins == 0)
    }
}
