import Foundation
import Synchronization
import Testing
import VouchSecrets

@testable import VouchCore

/// Loading at start-up: work run alongside the user load, and its errors.
@Suite struct StartupLoadTests {
    struct Boom: Error {}
    let pw = "correct horse"

    @Test func workAlongsideRunsAndTheUsersAreLoaded() throws {
        let f = try ServiceFixture()
        for i in 0..<3 {
            _ = try f.service.createUser(username: "user\(i)", email: nil, password: secret(pw), flags: [.active])
        }
        let reopened = try f.reopened()
        let ran = Atomic<Int>(0)
        let fresh = AccountService(
            store: reopened.store, hasher: cheapHasher, policy: PasswordPolicy(), clock: f.clock,
            logger: quietLogger)
        try fresh.load(alongside: { ran.add(1, ordering: .relaxed) })
        #expect(ran.load(ordering: .relaxed) == 1)
        #expect(fresh.userCount == 3)
        #expect(try fresh.user(.name("user2")).username == "user2")
    }

    @Test func anErrorAlongsideIsThrownAfterTheUsersAreLoaded() throws {
        let f = try ServiceFixture()
        _ = try f.service.createUser(username: "bob", email: nil, password: secret(pw), flags: [.active])
        let fresh = AccountService(
            store: f.store, hasher: cheapHasher, policy: PasswordPolicy(), clock: f.clock, logger: quietLogger)
        #expect(throws: Boom.self) { try fresh.load(alongside: { throw Boom() }) }
        #expect(fresh.userCount == 1)
    }

    @Test func backgroundJobRethrowsOnEveryWait() {
        let job = BackgroundJob { throw Boom() }
        #expect(throws: Boom.self) { try job.wait() }
        #expect(throws: Boom.self) { try job.wait() }
        let fine = BackgroundJob {}
        #expect(throws: Never.self) { try fine.wait() }
    }
}
