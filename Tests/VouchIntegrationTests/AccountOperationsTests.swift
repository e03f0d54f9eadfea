import Foundation
import Testing
import VouchClient
import VouchProtocol

/// Every account operation through VouchClient against a real vouchd.
@Suite struct AccountOperationsTests {
    @Test func createWithAndWithoutEmailAndFlags() async throws {
        let daemon = try await TestDaemon()
        let client = try await daemon.client()
        let plain = try await client.createUser(username: "bob", password: .text("plain pass 1"))
        #expect(plain.username == "bob")
        #expect(plain.email == nil)
        #expect(plain.flags == .active)
        #expect(plain.lastLogin == nil)
        #expect(plain.failedLogins == 0)
        #expect(plain.lockedUntil == nil)
        #expect(plain.createdAt > 0)
        #expect(plain.updatedAt == plain.createdAt)

        let full = try await client.createUser(
            username: "Alice", email: "Alice@Example.org", password: .text("full pass 22"), flags: .all)
        #expect(full.username == "Alice")
        #expect(full.email == "Alice@Example.org")
        #expect(full.flags == .all)
        #expect(full.id != plain.id)
        #expect(full.uuid != plain.uuid)

        let inactive = try await client.createUser(username: "carol", password: .text("inactive pass 3"), flags: [])
        #expect(inactive.flags == [])
        let admin = try await client.createUser(
            username: "dave", password: .text("admin pass 44"), flags: [.active, .admin])
        #expect(admin.flags == [.active, .admin])

        // What create answered is what get answers.
        for u in [plain, full, inactive, admin] {
            #expect(try await client.user(.id(u.id)) == u)
        }
        #expect(try await client.status().users == 4)
        await client.close()
        daemon.expectLogFreeOf(["plain pass 1", "full pass 22", "inactive pass 3", "admin pass 44"])
    }

    @Test func createRefusesBadInput() async throws {
        let daemon = try await TestDaemon()
        let client = try await daemon.client()
        let empty = await refusal { () async throws(VouchClientError) in
            try await client.createUser(username: "", password: .text("good pass 1"))
        }
        #expect(empty.status == .invalidInput)
        let spaced = await refusal { () async throws(VouchClientError) in
            try await client.createUser(username: "two words", password: .text("good pass 1"))
        }
        #expect(spaced.status == .invalidInput)
        let short = await refusal { () async throws(VouchClientError) in
            try await client.createUser(username: "erin", password: .text("short"))
        }
        #expect(short.status == .passwordRejected)
        #expect(short.message.contains("too short"), "\(short.message)")
        #expect(try await client.users().total == 0)
        await client.close()
    }

    @Test func loginRecordsLastLoginAndIgnoresUsernameCase() async throws {
        let daemon = try await TestDaemon()
        let created = try await daemon.createUser("bob", password: "correct horse 1")
        let client = try await daemon.client()
        let (user, token) = try await client.login(username: "bob", password: .text("correct horse 1"))
        #expect(user.id == created.id)
        #expect(token == nil)
        let first = try #require(user.lastLogin)
        #expect(first >= created.createdAt)
        let (again, _) = try await client.login(username: "BoB", password: .text("correct horse 1"))
        #expect(again.id == created.id)
        #expect(try #require(again.lastLogin) >= first)
        #expect(try await client.user(.id(created.id)).lastLogin == again.lastLogin)
        await client.close()
        daemon.expectLogFreeOf(["correct horse 1"])
    }

    @Test func unknownUserAndWrongPasswordAreIndistinguishable() async throws {
        let daemon = try await TestDaemon()
        try await daemon.createUser("bob", password: "correct horse 1")
        let client = try await daemon.client()
        let wrong = await refusal { () async throws(VouchClientError) in
            try await client.login(username: "bob", password: .text("wrong horse 1"))
        }
        let unknown = await refusal { () async throws(VouchClientError) in
            try await client.login(username: "nobody", password: .text("wrong horse 1"))
        }
        let overlong = await refusal { () async throws(VouchClientError) in
            try await client.login(username: "bob", password: .text(String(repeating: "p", count: 600)))
        }
        let longName = await refusal { () async throws(VouchClientError) in
            try await client.login(username: String(repeating: "b", count: 300), password: .text("correct horse 1"))
        }
        for r in [wrong, unknown, overlong, longName] {
            #expect(r.status == .invalidCredentials)
            #expect(r.message == "Invalid username or password")
        }
        // A wrong password does not lock the right one out (no lockout configured).
        _ = try await client.login(username: "bob", password: .text("correct horse 1"))
        await client.close()
        daemon.expectLogFreeOf(["correct horse 1", "wrong horse 1"])
    }

    @Test func inactiveUsersCannotLogIn() async throws {
        let daemon = try await TestDaemon()
        try await daemon.createUser("carol", password: "inactive pass 3", flags: [])
        let client = try await daemon.client()
        let right = await refusal { () async throws(VouchClientError) in
            try await client.login(username: "carol", password: .text("inactive pass 3"))
        }
        #expect(right.status == .inactive)
        #expect(right.message == "The account is inactive")
        // Only the right password reveals that the account is inactive.
        let wrong = await refusal { () async throws(VouchClientError) in
            try await client.login(username: "carol", password: .text("not her pass 3"))
        }
        #expect(wrong.status == .invalidCredentials)
        // Activated, the same password works.
        let (_, changed) = try await client.updateUser(.username("carol"), set: .active, to: .active)
        #expect(changed == ["active"])
        _ = try await client.login(username: "carol", password: .text("inactive pass 3"))
        await client.close()
        daemon.expectLogFreeOf(["inactive pass 3", "not her pass 3"])
    }

    @Test func changePasswordWithTheOldOne() async throws {
        let daemon = try await TestDaemon()
        try await daemon.createUser("bob", password: "old password 1", email: "robert@example.org")
        let client = try await daemon.client()

        let wrongOld = await refusal { () async throws(VouchClientError) in
            try await client.changePassword(username: "bob", old: .text("not the old 1"), new: .text("new password 2"))
        }
        #expect(wrongOld.status == .invalidCredentials)
        #expect(wrongOld.message == "Invalid username or password")
        let unknown = await refusal { () async throws(VouchClientError) in
            try await client.changePassword(
                username: "nobody", old: .text("old password 1"), new: .text("new password 2"))
        }
        #expect(unknown.status == .invalidCredentials)
        #expect(unknown.message == wrongOld.message)

        for (bad, reason) in [("tiny7", "too short"), ("xxBOBxxxyyy", "username"), ("my ROBERT pass", "email")] {
            let refused = await refusal { () async throws(VouchClientError) in
                try await client.changePassword(username: "bob", old: .text("old password 1"), new: .text(bad))
            }
            #expect(refused.status == .passwordRejected, "\(bad)")
            #expect(refused.message.lowercased().contains(reason), "\(bad): \(refused.message)")
            #expect(!refused.message.contains(bad), "the reason repeats the password")
        }
        // Refusals changed nothing.
        _ = try await client.login(username: "bob", password: .text("old password 1"))

        try await client.changePassword(username: "BOB", old: .text("old password 1"), new: .text("new password 2"))
        _ = try await client.login(username: "bob", password: .text("new password 2"))
        let old = await refusal { () async throws(VouchClientError) in
            try await client.login(username: "bob", password: .text("old password 1"))
        }
        #expect(old.status == .invalidCredentials)
        await client.close()
        daemon.expectLogFreeOf(["old password 1", "not the old 1", "new password 2", "xxBOBxxxyyy", "my ROBERT pass"])
    }

    @Test func setPasswordByEveryKindOfSelector() async throws {
        let daemon = try await TestDaemon()
        let bob = try await daemon.createUser("bob", password: "first pass 1")
        let client = try await daemon.client()
        let selectors: [(UserSelector, String)] = [
            (.id(bob.id), "by id pass 2"), (.uuid(bob.uuid), "by uuid pass 3"), (.username("BOB"), "by name pass 4"),
            (.any("bob"), "by text pass 5"), (.any("\(bob.id)"), "by id text 6"),
            (.any(bob.uuid.description), "by uuid text 7"),
        ]
        var previous = "first pass 1"
        for (selector, password) in selectors {
            try await client.setPassword(selector, password: .text(password))
            _ = try await client.login(username: "bob", password: .text(password))
            let old = await refusal { () async throws(VouchClientError) in
                try await client.login(username: "bob", password: .text(previous))
            }
            #expect(old.status == .invalidCredentials, "\(selector)")
            previous = password
        }
        let rejected = await refusal { () async throws(VouchClientError) in
            try await client.setPassword(.id(bob.id), password: .text("tiny"))
        }
        #expect(rejected.status == .passwordRejected)
        #expect(rejected.message.contains("too short"))
        let missing = await refusal { () async throws(VouchClientError) in
            try await client.setPassword(.username("nobody"), password: .text("whatever pass 8"))
        }
        #expect(missing.status == .notFound)
        #expect(missing.message == "User nobody doesn't exist")
        await client.close()
        daemon.expectLogFreeOf(["first pass 1", "whatever pass 8"] + selectors.map(\.1))
    }

    @Test func getByIdUUIDUsernameAndText() async throws {
        let daemon = try await TestDaemon()
        let bob = try await daemon.createUser("bob", password: "correct horse 1", email: "bob@example.org")
        // A username that looks like another user's id: a username wins for typed text.
        let numeric = try await daemon.createUser("\(bob.id)", password: "numeric pass 2")
        let client = try await daemon.client()
        for selector in [
            UserSelector.id(bob.id), .uuid(bob.uuid), .username("bob"), .username("BOB"), .any("Bob"),
            .any(bob.uuid.description), .any(bob.uuid.description.uppercased()),
        ] {
            #expect(try await client.user(selector) == bob, "\(selector)")
        }
        #expect(try await client.user(.any("\(bob.id)")) == numeric)
        #expect(try await client.user(.any("\(numeric.id)")) == numeric)

        for (selector, text) in [
            (UserSelector.id(999), "#999"), (.username("nobody"), "nobody"), (.any("nobody"), "nobody"),
            (.uuid(WireUUID(string: "00000000-0000-0000-0000-000000000000")!), "00000000-0000-0000-0000-000000000000"),
        ] {
            let missing = await refusal { () async throws(VouchClientError) in try await client.user(selector) }
            #expect(missing.status == .notFound, "\(selector)")
            #expect(missing.message == "User \(text) doesn't exist")
        }
        await client.close()
    }

    @Test func listPagesEveryOrderBothWays() async throws {
        let daemon = try await TestDaemon()
        let client = try await daemon.client()
        #expect(try await client.users().total == 0)
        #expect(try await client.users().users.isEmpty)

        let names = ["mallory", "Bob", "alice", "Eve", "dave", "carol", "frank"]
        for name in names {
            _ = try await client.createUser(username: name, password: .text("listing pass 1"))
        }
        // Some users log in, in a known order; the others never did.
        for name in ["dave", "alice", "frank"] {
            _ = try await client.login(username: name, password: .text("listing pass 1"))
        }
        let all = try await client.users(limit: 1000).users
        #expect(all.count == names.count)

        func expected(_ order: UserSortOrder) -> [UserRecord] {
            switch order {
            case .username:
                return all.sorted { ($0.username.lowercased(), $0.id) < ($1.username.lowercased(), $1.id) }
            case .id: return all.sorted { $0.id < $1.id }
            case .created: return all.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
            case .lastLogin:
                return all.sorted { a, b in
                    switch (a.lastLogin, b.lastLogin) {
                    case (nil, nil): return a.id < b.id
                    case (nil, _): return false
                    case (_, nil): return true
                    case (let x?, let y?): return (x, a.id) < (y, b.id)
                    }
                }
            }
        }
        #expect(expected(.username).map(\.username) == ["alice", "Bob", "carol", "dave", "Eve", "frank", "mallory"])
        #expect(expected(.lastLogin).prefix(3).map(\.username) == ["dave", "alice", "frank"])

        for order in UserSortOrder.allCases {
            for descending in [false, true] {
                for limit in [UInt32(1), 2, 3, 7, 1000] {
                    var paged: [UserRecord] = []
                    var page: UInt32 = 1
                    while true {
                        let result = try await client.users(
                            limit: limit, page: page, order: order, descending: descending)
                        #expect(result.total == UInt32(names.count))
                        #expect(result.users.count <= Int(limit))
                        if result.users.isEmpty { break }
                        paged += result.users
                        page += 1
                    }
                    let want = descending ? expected(order).reversed() : expected(order)
                    #expect(paged.map(\.id) == want.map(\.id), "\(order) descending=\(descending) limit=\(limit)")
                }
            }
        }
        // Past the end: no users, but the total.
        let past = try await client.users(limit: 5, page: 99)
        #expect(past.total == 7)
        #expect(past.users.isEmpty)

        for (limit, page) in [(UInt32(0), UInt32(1)), (1001, 1), (10, 0)] {
            let bad = await refusal { () async throws(VouchClientError) in
                try await client.users(limit: limit, page: page)
            }
            #expect(bad.status == .invalidInput, "limit \(limit) page \(page)")
        }
        await client.close()
    }

    @Test func updateEmailClearsVerifiedAndFlagsReportChanges() async throws {
        let daemon = try await TestDaemon()
        let bob = try await daemon.createUser(
            "bob", password: "correct horse 1", email: "bob@example.org", flags: [.active, .verified])
        let client = try await daemon.client()

        // Same email: nothing changes, nothing is written.
        let same = try await client.updateUser(.id(bob.id), email: .some("bob@example.org"))
        #expect(same.changed == [])
        #expect(same.user == bob)

        let moved = try await client.updateUser(.username("bob"), email: .some("robert@example.org"))
        #expect(moved.changed == ["email", "verified"])
        #expect(moved.user.email == "robert@example.org")
        #expect(!moved.user.flags.contains(.verified))
        #expect(moved.user.updatedAt >= bob.updatedAt)
        #expect(try await client.user(.id(bob.id)) == moved.user)

        // Changing the email and setting verified in one request keeps it verified.
        let both = try await client.updateUser(
            .id(bob.id), email: .some("bob@example.net"), set: .verified, to: .verified)
        #expect(both.changed == ["email", "verified"])
        #expect(both.user.flags.contains(.verified))

        let cleared = try await client.updateUser(.id(bob.id), email: .some(nil))
        #expect(cleared.user.email == nil)
        #expect(cleared.changed == ["email", "verified"])

        let flags = try await client.updateUser(
            .uuid(bob.uuid), set: [.admin, .superuser, .active], to: [.admin, .superuser])
        #expect(flags.changed == ["active", "admin", "superuser"])
        #expect(flags.user.flags == [.admin, .superuser])
        let noop = try await client.updateUser(.uuid(bob.uuid), set: [.admin], to: [.admin])
        #expect(noop.changed == [])

        let badEmail = await refusal { () async throws(VouchClientError) in
            try await client.updateUser(.id(bob.id), email: .some("not an email"))
        }
        #expect(badEmail.status == .invalidInput)
        let missing = await refusal { () async throws(VouchClientError) in
            try await client.updateUser(.username("nobody"), set: .admin, to: .admin)
        }
        #expect(missing.status == .notFound)
        #expect(missing.message == "User nobody doesn't exist")
        await client.close()
    }

    @Test func deleteRemovesTheUserEverywhere() async throws {
        let daemon = try await TestDaemon()
        let bob = try await daemon.createUser("bob", password: "correct horse 1")
        let eve = try await daemon.createUser("eve", password: "second password 2")
        let client = try await daemon.client()
        try await client.deleteUser(.any("BOB"))
        let gone = await refusal { () async throws(VouchClientError) in try await client.user(.id(bob.id)) }
        #expect(gone.status == .notFound)
        let login = await refusal { () async throws(VouchClientError) in
            try await client.login(username: "bob", password: .text("correct horse 1"))
        }
        #expect(login.status == .invalidCredentials)
        let again = await refusal { () async throws(VouchClientError) in try await client.deleteUser(.id(bob.id)) }
        #expect(again.status == .notFound)
        #expect(again.message == "User #\(bob.id) doesn't exist")
        let list = try await client.users()
        #expect(list.total == 1)
        #expect(list.users.map(\.id) == [eve.id])
        // The username is free again.
        let reborn = try await client.createUser(username: "Bob", password: .text("reborn pass 3"))
        #expect(reborn.id != bob.id)
        await client.close()
    }

    @Test func usernamesDifferingOnlyInCaseAndDuplicateEmailsAreTaken() async throws {
        let daemon = try await TestDaemon()
        let client = try await daemon.client()
        _ = try await client.createUser(username: "bob", email: "bob@example.org", password: .text("correct horse 1"))
        for name in ["bob", "BOB", "Bob"] {
            let taken = await refusal { () async throws(VouchClientError) in
                try await client.createUser(username: name, password: .text("another pass 2"))
            }
            #expect(taken.status == .usernameTaken, "\(name)")
            #expect(taken.message == "A user with that username already exists")
        }
        for email in ["bob@example.org", "BOB@Example.ORG"] {
            let taken = await refusal { () async throws(VouchClientError) in
                try await client.createUser(username: "robert", email: email, password: .text("another pass 2"))
            }
            #expect(taken.status == .emailTaken, "\(email)")
            #expect(taken.message == "A user with that email already exists")
        }
        let eve = try await client.createUser(
            username: "eve", email: "eve@example.org", password: .text("other pass 33"))
        let update = await refusal { () async throws(VouchClientError) in
            try await client.updateUser(.id(eve.id), email: .some("Bob@example.org"))
        }
        #expect(update.status == .emailTaken)
        #expect(try await client.users().total == 2)
        await client.close()
    }

    @Test func helloAndStatus() async throws {
        let daemon = try await TestDaemon()
        try await daemon.createUser("bob", password: "correct horse 1")
        let client = try await daemon.client()
        let hello = try await client.hello(clientName: "tests")
        #expect(hello.minVersion == 1)
        #expect(hello.maxVersion == 1)
        #expect(hello.maxFrameBytes == 65536)
        #expect(hello.serverVersion == VouchVersion.string)
        try await client.ping()
        let status = try await client.status()
        #expect(status.serverVersion == VouchVersion.string)
        #expect(status.users == 1)
        #expect(status.connections >= 1)
        #expect(status.requestsServed >= 2)
        #expect(status.uptimeMillis >= 0)
        let later = try await client.status()
        #expect(later.requestsServed > status.requestsServed)
        #expect(later.uptimeMillis >= status.uptimeMillis)
        await client.close()
    }
}
