import Foundation
import Testing
import VouchSecrets

@testable import VouchCore

/// A store and a service with a given lockout policy and a manual clock.
struct LockoutFixture {
    let dir: TempDir
    let store: SQLiteUserStore
    let service: AccountService
    let clock: ManualClock

    init(policy: LockoutPolicy, dir: TempDir = TempDir(), clock: ManualClock = ManualClock()) throws {
        self.dir = dir
        self.clock = clock
        store = try openStore(dir)
        service = AccountService(
            store: store, hasher: cheapHasher, policy: PasswordPolicy(), clock: clock, logger: quietLogger,
            lockout: policy)
        try service.load()
    }

    func reopened(policy: LockoutPolicy) throws -> LockoutFixture {
        store.checkpointAndClose()
        return try LockoutFixture(policy: policy, dir: dir, clock: clock)
    }

    @discardableResult
    func create(_ name: String, flags: UserFlags = [.active]) throws -> User {
        try service.createUser(username: name, email: nil, password: secret("correct horse"), flags: flags)
    }

    func fail(_ name: String, times: Int = 1) {
        for _ in 0..<times {
            expectCode(.invalidCredentials) { _ = try service.login(username: name, password: secret("wrong horse")) }
        }
    }
}

@Suite struct LockoutTests {
    static let minute: Int64 = 60_000
    let policy = LockoutPolicy(deny: 3, failIntervalMillis: 15 * minute, unlockTimeMillis: 10 * minute)

    @Test func locksAfterDenyFailuresAndRefusesEvenTheRightPassword() throws {
        let f = try LockoutFixture(policy: policy)
        try f.create("alice")
        f.fail("alice", times: 2)
        #expect(try f.service.user(.name("alice")).failedLogins == 2)
        #expect(try f.service.accountState(username: "alice") == .active)
        f.fail("alice")
        let locked = try f.service.user(.name("alice"))
        #expect(locked.failedLogins == 3)
        #expect(locked.lockedUntil == f.clock.nowMillis() + 10 * Self.minute)
        #expect(try f.service.accountState(username: "alice") == .locked)
        expectCode(.locked) { _ = try f.service.login(username: "alice", password: secret("correct horse")) }
        expectCode(.locked) { _ = try f.service.login(username: "alice", password: secret("wrong horse")) }
        expectCode(.locked) {
            _ = try f.service.changePassword(
                username: "alice", old: secret("correct horse"), new: secret("new horse battery"))
        }
        // Refusals while locked are not counted.
        #expect(try f.service.user(.name("alice")).failedLogins == 3)
    }

    @Test func lockRunsOutAndASuccessClearsTheCount() throws {
        let f = try LockoutFixture(policy: policy)
        try f.create("bob")
        f.fail("bob", times: 3)
        f.clock.advance(10 * Self.minute - 1)
        expectCode(.locked) { _ = try f.service.login(username: "bob", password: secret("correct horse")) }
        f.clock.advance(1)
        #expect(try f.service.accountState(username: "bob") == .active)
        // After the lock runs out a failure starts a new window.
        f.fail("bob")
        #expect(try f.service.user(.name("bob")).failedLogins == 1)
        #expect(try f.service.user(.name("bob")).lockedUntil == nil)
        let ok = try f.service.login(username: "bob", password: secret("correct horse"))
        #expect(ok.failedLogins == 0 && ok.lockedUntil == nil && ok.failuresSince == nil)
        #expect(try f.service.user(.name("bob")).failedLogins == 0)
    }

    @Test func failuresOutsideTheIntervalStartANewWindow() throws {
        let f = try LockoutFixture(policy: policy)
        try f.create("carol")
        f.fail("carol", times: 2)
        f.clock.advance(15 * Self.minute + 1)
        f.fail("carol")
        let user = try f.service.user(.name("carol"))
        #expect(user.failedLogins == 1)
        #expect(user.lockedUntil == nil)
        #expect(user.failuresSince == f.clock.nowMillis())
    }

    @Test func unlockTimeZeroLocksUntilAnAdminUnlocks() throws {
        let f = try LockoutFixture(
            policy: LockoutPolicy(deny: 2, failIntervalMillis: 15 * Self.minute, unlockTimeMillis: nil))
        try f.create("dave")
        f.fail("dave", times: 2)
        #expect(try f.service.user(.name("dave")).lockedUntil == Int64.max)
        f.clock.advance(365 * 24 * 60 * Self.minute)
        expectCode(.locked) { _ = try f.service.login(username: "dave", password: secret("correct horse")) }
        let unlocked = try f.service.unlockUser(.name("dave"))
        #expect(unlocked.failedLogins == 0 && unlocked.lockedUntil == nil)
        #expect(try f.service.login(username: "dave", password: secret("correct horse")).username == "dave")
    }

    @Test func lockSurvivesARestart() throws {
        let f = try LockoutFixture(policy: policy)
        try f.create("erin")
        f.fail("erin", times: 2)
        var g = try f.reopened(policy: policy)
        #expect(try g.service.user(.name("erin")).failedLogins == 2)
        g.fail("erin")
        g = try g.reopened(policy: policy)
        let user = try g.service.user(.name("erin"))
        #expect(user.failedLogins == 3 && user.lockedUntil != nil && user.failuresSince != nil)
        expectCode(.locked) { _ = try g.service.login(username: "erin", password: secret("correct horse")) }
        _ = try g.service.unlockUser(.name("erin"))
        g = try g.reopened(policy: policy)
        #expect(try g.service.accountState(username: "erin") == .active)
    }

    @Test func superusersAreExemptWhenConfigured() throws {
        let f = try LockoutFixture(policy: policy)
        try f.create("root-ish", flags: [.active, .superuser])
        f.fail("root-ish", times: 5)
        let user = try f.service.user(.name("root-ish"))
        #expect(user.failedLogins == 5 && user.lockedUntil == nil)
        #expect(try f.service.login(username: "root-ish", password: secret("correct horse")).failedLogins == 0)

        var strict = policy
        strict.exemptSuperuser = false
        let g = try LockoutFixture(policy: strict)
        try g.create("root-ish", flags: [.active, .superuser])
        g.fail("root-ish", times: 3)
        #expect(try g.service.accountState(username: "root-ish") == .locked)
    }

    @Test func denyZeroNeverLocks() throws {
        let f = try LockoutFixture(policy: .disabled)
        try f.create("frank")
        f.fail("frank", times: 8)
        #expect(try f.service.user(.name("frank")).lockedUntil == nil)
        #expect(try f.service.login(username: "frank", password: secret("correct horse")).username == "frank")
    }

    @Test func accountStateReportsInactiveFirstAndUnknownUsers() throws {
        let f = try LockoutFixture(policy: policy)
        try f.create("gina", flags: [])
        f.fail("gina", times: 3)
        #expect(try f.service.accountState(username: "GINA") == .inactive)
        expectCode(.notFound) { _ = try f.service.accountState(username: "nobody") }
        expectCode(.notFound) { _ = try f.service.accountState(username: String(repeating: "x", count: 10_000)) }
    }

    @Test func unknownUsersAreNotLockedAndUnlockOfAnUnknownUserIsNotFound() throws {
        let f = try LockoutFixture(policy: policy)
        f.fail("ghost", times: 5)
        expectCode(.invalidCredentials) { _ = try f.service.login(username: "ghost", password: secret("x")) }
        expectCode(.notFound) { _ = try f.service.unlockUser(.name("ghost")) }
    }

    @Test func concurrentGuessesCannotOutrunTheLockout() async throws {
        let f = try LockoutFixture(policy: policy)
        try f.create("henry")
        let service = f.service
        let outcomes = await withTaskGroup(of: AccountError.Code?.self) { group in
            for _ in 0..<24 {
                group.addTask {
                    do {
                        _ = try service.login(username: "henry", password: secret("wrong horse"))
                        return nil
                    } catch {
                        return (error as? AccountError)?.code
                    }
                }
            }
            var codes: [AccountError.Code?] = []
            for await code in group { codes.append(code) }
            return codes
        }
        // At most `deny` guesses were checked; every other attempt was refused as locked.
        let checked = outcomes.filter { $0 == .invalidCredentials }.count
        #expect(checked <= policy.deny)
        #expect(checked + outcomes.filter { $0 == .locked }.count == 24)
        #expect(try f.service.user(.name("henry")).failedLogins <= UInt32(policy.deny))
        #expect(try f.service.accountState(username: "henry") == .locked)
    }

    @Test func policyFromConfig() {
        var config = VouchConfig()
        #expect(
            LockoutPolicy(config: config)
                == LockoutPolicy(
                    deny: 5, failIntervalMillis: 900_000, unlockTimeMillis: 600_000, exemptSuperuser: true))
        config.lockoutUnlockTime = 0
        config.lockoutExemptSuperuser = false
        #expect(LockoutPolicy(config: config).unlockTimeMillis == nil)
        #expect(LockoutPolicy(config: config).exemptSuperuser == false)
    }
}
