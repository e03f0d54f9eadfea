import Foundation
import Testing
import VouchClient
import VouchProtocol

/// What vouchd acknowledged survives a restart and a crash; a database it does
/// not understand is refused untouched.
@Suite struct DurabilityTests {
    /// Acknowledged writes of every kind; returns the passwords that must work afterwards.
    func writeEverything(_ daemon: TestDaemon) async throws -> (users: [UserRecord], passwords: [String: String]) {
        let client = try await daemon.client()
        var passwords: [String: String] = [:]
        var users: [UserRecord] = []
        for i in 0..<8 {
            let name = "user\(i)"
            passwords[name] = "durable pass \(i)"
            users.append(
                try await client.createUser(
                    username: name, email: i % 2 == 0 ? "\(name)@example.org" : nil, password: .text(passwords[name]!)))
        }
        // Own change, admin set, email, flags, delete.
        try await client.changePassword(username: "user0", old: .text("durable pass 0"), new: .text("changed pass 0"))
        passwords["user0"] = "changed pass 0"
        try await client.setPassword(.username("user1"), password: .text("set pass 1"))
        passwords["user1"] = "set pass 1"
        users[2] = try await client.updateUser(.username("user2"), email: .some("moved@example.org")).user
        users[3] = try await client.updateUser(.username("user3"), set: [.admin, .verified], to: [.admin, .verified])
            .user
        users[4] = try await client.login(username: "user4", password: .text("durable pass 4")).user
        try await client.deleteUser(.username("user5"))
        users.remove(at: 5)
        passwords["user5"] = nil
        await client.close()
        return (users, passwords)
    }

    func expectIntact(_ daemon: TestDaemon, _ users: [UserRecord], _ passwords: [String: String]) async throws {
        let client = try await daemon.client()
        let listed = try await client.users(limit: 1000, order: .id)
        #expect(listed.total == UInt32(users.count))
        // Logins and password changes move last_login and updated_at; everything else is as acknowledged.
        func stable(_ u: UserRecord) -> String {
            "\(u.id) \(u.uuid) \(u.username) \(u.email ?? "-") \(u.flags.rawValue) \(u.createdAt)"
        }
        #expect(listed.users.map(stable) == users.map(stable))
        for (now, then) in zip(listed.users, users) {
            #expect(now.updatedAt >= then.updatedAt)
            if let last = then.lastLogin { #expect(try #require(now.lastLogin) >= last) }
        }
        for (name, password) in passwords.sorted(by: { $0.key < $1.key }) {
            let (user, _) = try await client.login(username: name, password: .text(password))
            #expect(user.username == name)
        }
        for (name, old) in [("user0", "durable pass 0"), ("user1", "durable pass 1"), ("user5", "durable pass 5")] {
            let refused = await refusal { () async throws(VouchClientError) in
                try await client.login(username: name, password: .text(old))
            }
            #expect(refused.status == .invalidCredentials, "\(name)")
        }
        await client.close()
    }

    @Test func gracefulRestartKeepsEveryAcknowledgedWrite() async throws {
        let daemon = try await TestDaemon()
        let (users, passwords) = try await writeEverything(daemon)
        try await daemon.restart()
        try await expectIntact(daemon, users, passwords)
        daemon.expectLogFreeOf(Array(passwords.values) + ["durable pass 0", "durable pass 1", "durable pass 5"])
    }

    @Test func killNineAfterAcknowledgedWritesLosesNothing() async throws {
        let daemon = try await TestDaemon()
        let (users, passwords) = try await writeEverything(daemon)
        daemon.kill9()
        try await daemon.start()
        try await expectIntact(daemon, users, passwords)
        // And once more, with a write in between.
        let client = try await daemon.client()
        let late = try await client.createUser(username: "late", password: .text("tardy pass 9"))
        await client.close()
        daemon.kill9()
        try await daemon.start()
        var more = passwords
        more["late"] = "tardy pass 9"
        try await expectIntact(daemon, users + [late], more)
        daemon.expectLogFreeOf(Array(more.values))
    }

    @Test func aDatabaseFromANewerSchemaIsRefusedUntouched() async throws {
        let daemon = try await TestDaemon(start: false)
        let set = try runProcess("/usr/bin/sqlite3", [daemon.databasePath, "PRAGMA user_version = 99;"])
        #expect(set.status == 0, "\(set.stderr)")
        let before = try Data(contentsOf: URL(fileURLWithPath: daemon.databasePath))
        #expect(!before.isEmpty)

        let serve = try runProcess(
            Products.vouchd, ["--config", daemon.configPath, "--log-to", "stderr"], timeout: 60)
        #expect(serve.status != 0)
        #expect(serve.stderr.contains(daemon.databasePath), "\(serve.stderr)")
        #expect(serve.stderr.contains("99"), "\(serve.stderr)")
        #expect(!FileManager.default.fileExists(atPath: daemon.socketPath))

        let migrate = try daemon.vouchdCommand(["migrate", "--config", daemon.configPath])
        #expect(migrate.status != 0)
        #expect(migrate.stderr.contains(daemon.databasePath), "\(migrate.stderr)")
        #expect(migrate.stderr.contains("99"), "\(migrate.stderr)")

        let after = try Data(contentsOf: URL(fileURLWithPath: daemon.databasePath))
        #expect(after == before)
        #expect(!FileManager.default.fileExists(atPath: daemon.databasePath + "-wal"))
        let version = try runProcess("/usr/bin/sqlite3", [daemon.databasePath, "PRAGMA user_version;"])
        #expect(version.out == "99")
    }

    @Test func migrateOnAFreshAndOnAnUpToDateDatabase() async throws {
        let daemon = try await TestDaemon(start: false)
        let fresh = try daemon.vouchdCommand(["migrate", "--config", daemon.configPath])
        #expect(fresh.status == 0, "\(fresh.stderr)")
        #expect(fresh.out.hasPrefix("\(daemon.databasePath): migrated to schema version "), "\(fresh.stdout)")
        let version = try #require(Int(fresh.out.split(separator: " ").last ?? ""))
        #expect(version >= 1)

        let again = try daemon.vouchdCommand(["migrate", "--config", daemon.configPath])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.out == "\(daemon.databasePath): schema is up to date (version \(version))")

        let pragma = try runProcess("/usr/bin/sqlite3", [daemon.databasePath, "PRAGMA user_version;"])
        #expect(pragma.out == "\(version)")

        // --database overrides the configuration.
        let other = daemon.directory + "/other.db"
        let viaFlag = try daemon.vouchdCommand(["migrate", "--config", daemon.configPath, "--database", other])
        #expect(viaFlag.status == 0, "\(viaFlag.stderr)")
        #expect(viaFlag.out.hasPrefix("\(other): migrated"))

        // The daemon serves the migrated database.
        try await daemon.start()
        try await daemon.createUser("bob", password: "migrated pass 1")
        daemon.stop()
        let upToDate = try daemon.vouchdCommand(["migrate", "--config", daemon.configPath])
        #expect(upToDate.out == "\(daemon.databasePath): schema is up to date (version \(version))")
    }
}
