import Foundation
import Testing
import VouchSecrets

@testable import VouchCore

/// A store, a service over it and a manual clock on a temporary database.
struct ServiceFixture {
    let dir: TempDir
    let store: SQLiteUserStore
    let service: AccountService
    let clock: ManualClock

    init(
        dir: TempDir = TempDir(), hasher: PasswordHasher = cheapHasher,
        clock: ManualClock = ManualClock()
    ) throws {
        self.dir = dir
        self.clock = clock
        store = try openStore(dir)
        service = AccountService(
            store: store, hasher: hasher, policy: PasswordPolicy(), clock: clock,
            logger: quietLogger)
        try service.load()
    }

    /// A new store and service on the same file, as after a restart.
    func reopened(hasher: PasswordHasher = cheapHasher) throws -> ServiceFixture {
        store.checkpointAndClose()
        return try ServiceFixture(dir: dir, hasher: hasher, clock: clock)
    }

    func all() throws -> [User] {
        try service.listUsers(limit: 1000, page: 1, order: .id, descending: false).users
    }
}

func expectCode(
    _ code: AccountError.Code, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected \(code), nothing thrown", sourceLocation: sourceLocation)
    } catch {
        #expect((error as? AccountError)?.code == code, "\(error)", sourceLocation: sourceLocation)
    }
}

@Suite struct AccountServiceTests {
    let pw = "correct horse"

    @Test func createThenLoginRecordsLastLoginDurably() throws {
        let f = try ServiceFixture()
        let created = try f.service.createUser(
            username: "Alice", email: "alice@example.com", password: secret(pw), flags: [.active])
        #expect(created.username == "Alice" && created.lastLogin == nil)
        #expect(created.passwordHash.hasPrefix("$argon2id$"))
        #expect(f.service.userCount == 1)
        f.clock.advance(5000)
        let loggedIn = try f.service.login(username: "alice", password: secret(pw))
        #expect(loggedIn.id == created.id)
        #expect(loggedIn.lastLogin == f.clock.nowMillis())
        #expect(try f.service.user(.id(created.id)).lastLogin == f.clock.nowMillis())
        let again = try f.reopened()
        #expect(try again.service.user(.name("ALICE")) == loggedIn)
    }

    @Test func createValidatesInput() throws {
        let f = try ServiceFixture()
        expectCode(.invalidInput) {
            _ = try f.service.createUser(username: "", email: nil, password: secret(pw), flags: [])
        }
        expectCode(.invalidInput) {
            _ = try f.service.createUser(
                username: "a b", email: nil, password: secret(pw), flags: [])
        }
        expectCode(.invalidInput) {
            _ = try f.service.createUser(
                username: "ok", email: "not-an-email", password: secret(pw), flags: [])
        }
        expectCode(.passwordRejected) {
            _ = try f.service.createUser(
                username: "ok", email: nil, password: secret("short"), flags: [])
        }
        expectCode(.passwordRejected) {
            _ = try f.service.createUser(
                username: "ok", email: nil, password: secret(String(repeating: "p", count: 129)),
                flags: [])
        }
        #expect(f.service.userCount == 0)
        #expect(try f.store.loadAllUsers().isEmpty)
    }

    @Test func duplicatesIgnoreCase() throws {
        let f = try ServiceFixture()
        _ = try f.service.createUser(
            username: "Alice", email: "Alice@Example.com", password: secret(pw), flags: [.active])
        expectCode(.usernameTaken) {
            _ = try f.service.createUser(
                username: "aLICE", email: nil, password: secret(pw), flags: [])
        }
        expectCode(.emailTaken) {
            _ = try f.service.createUser(
                username: "bob", email: "alice@example.COM", password: secret(pw), flags: [])
        }
        #expect(f.service.userCount == 1)
    }

    @Test func badCredentialsAllLookTheSame() throws {
        let f = try ServiceFixture()
        _ = try f.service.createUser(
            username: "alice", email: nil, password: secret(pw), flags: [.active])
        let attempts: [(String, SecretBytes)] = [
            ("alice", secret("wrong password")),
            ("nobody", secret(pw)),
            (String(repeating: "a", count: 101), secret(pw)),
            ("alice", secret(String(repeating: "x", count: 129))),
            ("alice", SecretBytes([UInt8](repeating: 0x61, count: 513))),
            ("alice", SecretBytes([0xff, 0xfe, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66])),
            ("alice", secret("")),
        ]
        for (name, password) in attempts {
            do {
                _ = try f.service.login(username: name, password: password)
                Issue.record("login succeeded for \(name)")
            } catch {
                #expect(error == AccountError.invalidCredentials())
            }
        }
        #expect(try f.service.user(.name("alice")).lastLogin == nil)
    }

    @Test func inactiveUserCannotLogIn() throws {
        let f = try ServiceFixture()
        _ = try f.service.createUser(username: "idle", email: nil, password: secret(pw), flags: [])
        expectCode(.inactive) { _ = try f.service.login(username: "idle", password: secret(pw)) }
        expectCode(.invalidCredentials) {
            _ = try f.service.login(username: "idle", password: secret("wrong password"))
        }
        #expect(try f.service.user(.name("idle")).lastLogin == nil)
    }

    @Test func loginRehashesWithTheConfiguredParameters() throws {
        let f = try ServiceFixture(hasher: cheapHasher)
        let created = try f.service.createUser(
            username: "carol", email: nil, password: secret(pw), flags: [.active])
        #expect(created.passwordHash.contains("m=1024,t=1"))
        let stronger = PasswordHasher(parameters: Argon2Parameters(memoryKiB: 2048, iterations: 2))
        let g = try f.reopened(hasher: stronger)
        let after = try g.service.login(username: "carol", password: secret(pw))
        #expect(after.passwordHash != created.passwordHash)
        #expect(after.passwordHash.contains("m=2048,t=2"))
        #expect(stronger.verify(secret(pw), against: after.passwordHash).isMatch)
        let h = try g.reopened(hasher: stronger)
        #expect(try h.service.user(.id(created.id)).passwordHash == after.passwordHash)
        // Current parameters: no further rehash.
        let again = try h.service.login(username: "carol", password: secret(pw))
        #expect(again.passwordHash == after.passwordHash)
    }

    @Test func changePasswordChecksTheOldOne() throws {
        let f = try ServiceFixture()
        _ = try f.service.createUser(
            username: "dave", email: nil, password: secret(pw), flags: [.active])
        expectCode(.invalidCredentials) {
            _ = try f.service.changePassword(
                username: "dave", old: secret("wrong password"), new: secret("new password 1"))
        }
        expectCode(.invalidCredentials) {
            _ = try f.service.changePassword(
                username: "nobody", old: secret(pw), new: secret("new password 1"))
        }
        expectCode(.passwordRejected) {
            _ = try f.service.changePassword(username: "dave", old: secret(pw), new: secret("x"))
        }
        f.clock.advance(10)
        let changed = try f.service.changePassword(
            username: "DAVE", old: secret(pw), new: secret("new password 1"))
        #expect(changed.updatedAt == f.clock.nowMillis())
        expectCode(.invalidCredentials) {
            _ = try f.service.login(username: "dave", password: secret(pw))
        }
        let g = try f.reopened()
        _ = try g.service.login(username: "dave", password: secret("new password 1"))
    }

    @Test func changePasswordOfInactiveUserIsRefused() throws {
        let f = try ServiceFixture()
        _ = try f.service.createUser(username: "idle", email: nil, password: secret(pw), flags: [])
        expectCode(.inactive) {
            _ = try f.service.changePassword(
                username: "idle", old: secret(pw), new: secret("new password 1"))
        }
    }

    @Test func adminSetsPassword() throws {
        let f = try ServiceFixture()
        let erin = try f.service.createUser(
            username: "erin", email: nil, password: secret(pw), flags: [.active])
        expectCode(.notFound) {
            _ = try f.service.setPassword(.name("nobody"), password: secret(pw))
        }
        expectCode(.passwordRejected) {
            _ = try f.service.setPassword(.id(erin.id), password: secret(""))
        }
        _ = try f.service.setPassword(.any("erin"), password: secret("brand new pass"))
        let g = try f.reopened()
        _ = try g.service.login(username: "erin", password: secret("brand new pass"))
        expectCode(.invalidCredentials) {
            _ = try g.service.login(username: "erin", password: secret(pw))
        }
    }

    @Test func updateUserReportsChangesAndClearsVerifiedOnEmailChange() throws {
        let f = try ServiceFixture()
        let frank = try f.service.createUser(
            username: "frank", email: "frank@example.com", password: secret(pw),
            flags: [.active, .verified])
        _ = try f.service.createUser(
            username: "gina", email: "gina@example.com", password: secret(pw), flags: [.active])

        // No change: no write, same user.
        let same = try f.service.updateUser(
            .name("frank"), email: nil, setFlags: [.active], flagValues: [.active])
        #expect(same.changed.isEmpty && same.user == frank)

        f.clock.advance(1)
        let moved = try f.service.updateUser(
            .name("frank"), email: .some("frank@new.example"), setFlags: [.admin],
            flagValues: [.admin])
        #expect(moved.changed == ["email", "admin", "verified"])
        #expect(moved.user.email == "frank@new.example")
        #expect(moved.user.flags == [.active, .admin])
        #expect(moved.user.updatedAt == f.clock.nowMillis())

        let reverified = try f.service.updateUser(
            .id(frank.id), email: .some("frank@other.example"), setFlags: [.verified],
            flagValues: [.verified])
        #expect(reverified.changed == ["email", "verified"])
        #expect(reverified.user.isVerified)

        let kept = try f.service.updateUser(
            .id(frank.id), email: .some("frank3@example.com"), setFlags: [.verified],
            flagValues: [.verified])
        #expect(kept.changed == ["email"] && kept.user.isVerified)

        expectCode(.emailTaken) {
            _ = try f.service.updateUser(
                .id(frank.id), email: .some("GINA@example.com"), setFlags: [], flagValues: [])
        }
        expectCode(.invalidInput) {
            _ = try f.service.updateUser(
                .id(frank.id), email: .some("nope"), setFlags: [], flagValues: [])
        }
        expectCode(.notFound) {
            _ = try f.service.updateUser(.name("nobody"), email: nil, setFlags: [], flagValues: [])
        }
        let cleared = try f.service.updateUser(
            .id(frank.id), email: .some(nil), setFlags: [.active], flagValues: [])
        #expect(cleared.changed == ["email", "active", "verified"])
        #expect(cleared.user.email == nil && cleared.user.flags == [.admin])

        let g = try f.reopened()
        #expect(try g.service.user(.id(frank.id)) == cleared.user)
    }

    @Test func deleteUser() throws {
        let f = try ServiceFixture()
        let hal = try f.service.createUser(
            username: "hal", email: "hal@example.com", password: secret(pw), flags: [.active])
        #expect(try f.service.deleteUser(.uuid(hal.uuid)) == hal)
        expectCode(.notFound) { _ = try f.service.user(.name("hal")) }
        expectCode(.notFound) { _ = try f.service.deleteUser(.id(hal.id)) }
        expectCode(.invalidCredentials) {
            _ = try f.service.login(username: "hal", password: secret(pw))
        }
        // The name and email are free again.
        _ = try f.service.createUser(
            username: "HAL", email: "hal@example.com", password: secret(pw), flags: [])
        let g = try f.reopened()
        #expect(try g.all().map(\.username) == ["HAL"])
    }

    @Test func listingValidatesAndPages() throws {
        let f = try ServiceFixture()
        for name in ["delta", "Alpha", "charlie", "Bravo"] {
            f.clock.advance(1)
            _ = try f.service.createUser(
                username: name, email: nil, password: secret(pw), flags: [.active])
        }
        expectCode(.invalidInput) {
            _ = try f.service.listUsers(limit: 0, page: 1, order: .id, descending: false)
        }
        expectCode(.invalidInput) {
            _ = try f.service.listUsers(limit: 1001, page: 1, order: .id, descending: false)
        }
        expectCode(.invalidInput) {
            _ = try f.service.listUsers(limit: 10, page: 0, order: .id, descending: false)
        }
        let first = try f.service.listUsers(limit: 3, page: 1, order: .username, descending: false)
        #expect(first.total == 4)
        #expect(first.users.map(\.username) == ["Alpha", "Bravo", "charlie"])
        let second = try f.service.listUsers(limit: 3, page: 2, order: .username, descending: false)
        #expect(second.users.map(\.username) == ["delta"])
        let newest = try f.service.listUsers(limit: 2, page: 1, order: .created, descending: true)
        #expect(newest.users.map(\.username) == ["Bravo", "charlie"])
        _ = try f.service.login(username: "charlie", password: secret(pw))
        let byLogin = try f.service.listUsers(
            limit: 10, page: 1, order: .lastLogin, descending: false)
        #expect(byLogin.users.first?.username == "charlie")
    }

    @Test func failedWritesLeaveTheCacheUnchanged() throws {
        let f = try ServiceFixture()
        let ivy = try f.service.createUser(
            username: "ivy", email: "ivy@example.com", password: secret(pw), flags: [.active])
        f.store.checkpointAndClose()  // every later write fails
        f.clock.advance(100)

        expectCode(.storageUnavailable) {
            _ = try f.service.createUser(
                username: "jack", email: nil, password: secret(pw), flags: [.active])
        }
        #expect(f.service.userCount == 1)
        expectCode(.notFound) { _ = try f.service.user(.name("jack")) }

        expectCode(.storageUnavailable) {
            _ = try f.service.updateUser(
                .id(ivy.id), email: .some("new@example.com"), setFlags: [.admin],
                flagValues: [.admin])
        }
        // Logins keep working from the cache; they are just not recorded.
        let loggedIn = try f.service.login(username: "ivy", password: secret(pw))
        #expect(loggedIn == ivy)
        expectCode(.storageUnavailable) {
            _ = try f.service.setPassword(.id(ivy.id), password: secret("another password"))
        }
        expectCode(.storageUnavailable) {
            _ = try f.service.changePassword(
                username: "ivy", old: secret(pw), new: secret("another password"))
        }
        expectCode(.storageUnavailable) { _ = try f.service.deleteUser(.id(ivy.id)) }
        #expect(try f.service.user(.id(ivy.id)) == ivy)
        #expect(f.service.userCount == 1)
        // A no-op update needs no write, so it still answers.
        #expect(
            try f.service.updateUser(.id(ivy.id), email: nil, setFlags: [], flagValues: []).changed
                .isEmpty)
    }

    @Test func reopenSeesEveryAcknowledgedWrite() throws {
        let f = try ServiceFixture()
        var expected: [User] = []
        for i in 0..<6 {
            f.clock.advance(7)
            expected.append(
                try f.service.createUser(
                    username: "user\(i)", email: i % 2 == 0 ? "u\(i)@example.com" : nil,
                    password: secret(pw), flags: [.active]))
        }
        expected[1] = try f.service.login(username: "user1", password: secret(pw))
        expected[2] = try f.service.updateUser(
            .id(expected[2].id), email: .some(nil), setFlags: [.superuser], flagValues: [.superuser]
        ).user
        expected[3] = try f.service.setPassword(
            .id(expected[3].id), password: secret("set by admin"))
        expected[4] = try f.service.changePassword(
            username: "user4", old: secret(pw), new: secret("changed by user"))
        _ = try f.service.deleteUser(.name("user5"))
        expected.removeLast()
        #expect(try f.all() == expected)
        // No checkpoint: a new connection must see the WAL contents too.
        let store2 = try openStore(f.dir)
        let service2 = AccountService(
            store: store2, hasher: cheapHasher, policy: PasswordPolicy(), clock: f.clock,
            logger: quietLogger)
        try service2.load()
        #expect(
            try service2.listUsers(limit: 10, page: 1, order: .id, descending: false).users
                == expected)
        store2.checkpointAndClose()
    }

    @Test func concurrentLoginsAndUpdatesStayConsistent() async throws {
        let f = try ServiceFixture()
        let kim = try f.service.createUser(
            username: "kim", email: nil, password: secret(pw), flags: [.active])
        let service = f.service
        let clock = f.clock
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<8 {
                group.addTask {
                    clock.advance(1)
                    if i % 2 == 0 {
                        _ = try? service.login(username: "kim", password: secret("correct horse"))
                    } else {
                        let on: UserFlags = i % 4 == 1 ? [.admin] : []
                        _ = try? service.updateUser(
                            .id(kim.id), email: nil, setFlags: [.admin], flagValues: on)
                    }
                }
            }
        }
        let g = try f.reopened()
        #expect(try g.service.user(.id(kim.id)) == (try f.service.user(.id(kim.id))))
    }
}
