import Foundation
import Testing
import VouchClient
import VouchProtocol

/// vouchd refuses a database it cannot trust, says which file and why, and
/// leaves the file byte for byte as it was.
@Suite struct StartupRefusalTests {
    func runVouchd(_ daemon: TestDaemon, _ extra: [String] = []) throws -> ProcessResult {
        try runProcess(Products.vouchd, ["--config", daemon.configPath, "--log-to", "stderr"] + extra)
    }

    /// A daemon with two users, stopped: its database file is ready to be damaged.
    func stoppedDaemonWithUsers() async throws -> TestDaemon {
        let daemon = try await TestDaemon()
        let client = try await daemon.client()
        _ = try await client.createUser(username: "bob", password: .text("correct horse 1"))
        _ = try await client.createUser(username: "carol", password: .text("staple battery 2"))
        await client.close()
        daemon.stop()
        return daemon
    }

    @Test func refusesAFileThatIsNotADatabase() async throws {
        let daemon = try await TestDaemon(start: false)
        let junk = Data(String(repeating: "this is not a database\n", count: 200).utf8)
        _ = FileManager.default.createFile(
            atPath: daemon.databasePath, contents: junk, attributes: [.posixPermissions: 0o600])
        let r = try runVouchd(daemon)
        #expect(r.status == 1)
        #expect(r.stderr.contains(daemon.databasePath), "\(r.stderr)")
        #expect(r.stderr.contains("not a SQLite database"), "\(r.stderr)")
        #expect(fileBytes(daemon.databasePath) == junk)
    }

    @Test func refusesACorruptDatabase() async throws {
        let daemon = try await stoppedDaemonWithUsers()
        var bytes = try #require(fileBytes(daemon.databasePath))
        let pageSize = 4096
        #expect(bytes.count >= 3 * pageSize)
        // Page 2 is the users table's root page.
        bytes.replaceSubrange(pageSize..<2 * pageSize, with: [UInt8](repeating: 0xA5, count: pageSize))
        try bytes.write(to: URL(fileURLWithPath: daemon.databasePath))
        let r = try runVouchd(daemon)
        #expect(r.status == 1)
        #expect(r.stderr.contains(daemon.databasePath), "\(r.stderr)")
        #expect(r.stderr.contains("corrupt"), "\(r.stderr)")
        #expect(fileBytes(daemon.databasePath) == bytes)
    }

    /// The whole-file check runs alongside the cache load: damage in a page
    /// the load never reads (an index of the events table) is still refused.
    @Test func refusesCorruptionThatLoadingDoesNotRead() async throws {
        let daemon = try await stoppedDaemonWithUsers()
        let root = try sqlite3(daemon.databasePath, "SELECT rootpage FROM sqlite_master WHERE name = 'events_by_time'")
        let page = try #require(Int(root.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        var bytes = try #require(fileBytes(daemon.databasePath))
        let pageSize = 4096
        #expect(bytes.count >= page * pageSize)
        bytes.replaceSubrange((page - 1) * pageSize..<page * pageSize, with: [UInt8](repeating: 0x5A, count: pageSize))
        try bytes.write(to: URL(fileURLWithPath: daemon.databasePath))
        let r = try runVouchd(daemon)
        #expect(r.status == 1)
        #expect(r.stderr.contains(daemon.databasePath), "\(r.stderr)")
        #expect(r.stderr.contains("corrupt"), "\(r.stderr)")
        #expect(fileBytes(daemon.databasePath) == bytes)
    }

    @Test func refusesANewerSchema() async throws {
        let daemon = try await stoppedDaemonWithUsers()
        #expect(try sqlite3(daemon.databasePath, "PRAGMA user_version = 99").status == 0)
        let before = try #require(fileBytes(daemon.databasePath))
        let r = try runVouchd(daemon)
        #expect(r.status == 1)
        #expect(r.stderr.contains(daemon.databasePath), "\(r.stderr)")
        #expect(r.stderr.contains("schema version 99"), "\(r.stderr)")
        #expect(fileBytes(daemon.databasePath) == before)
        let migrate = try runProcess(Products.vouchd, ["migrate", "--config", daemon.configPath])
        #expect(migrate.status == 1)
        #expect(fileBytes(daemon.databasePath) == before)
    }

    @Test func secondDaemonOnTheSameDatabaseNamesTheFirst() async throws {
        let daemon = try await TestDaemon()
        let pid = try #require(daemon.process?.processIdentifier)
        let r = try runVouchd(daemon, ["--socket", daemon.directory + "/second.sock"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("pid \(pid)"), "\(r.stderr)")
        #expect(r.stderr.contains(daemon.databasePath), "\(r.stderr)")
        let migrate = try runProcess(Products.vouchd, ["migrate", "--config", daemon.configPath])
        #expect(migrate.status == 1)
        #expect(migrate.stderr.contains("pid \(pid)"), "\(migrate.stderr)")
        // The first keeps serving.
        let client = try await daemon.client()
        try await client.ping()
        await client.close()
        // The lock goes with the process, even after kill -9.
        daemon.kill9()
        try await daemon.start()
    }
}
