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

    /// Overwrites 4 KiB page `page` (from 1) of a stopped daemon's database
    /// with `byte`, then expects vouchd to refuse it as corrupt, naming the
    /// file, without changing a byte of it.
    func expectRefusedWithPageOverwritten(
        _ daemon: TestDaemon, page: Int, with byte: UInt8, fileHasPages pages: Int,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        var bytes = try #require(fileBytes(daemon.databasePath), sourceLocation: sourceLocation)
        let pageSize = 4096
        #expect(bytes.count >= pages * pageSize, sourceLocation: sourceLocation)
        bytes.replaceSubrange((page - 1) * pageSize..<page * pageSize, with: [UInt8](repeating: byte, count: pageSize))
        try bytes.write(to: URL(fileURLWithPath: daemon.databasePath))
        let r = try runVouchd(daemon)
        #expect(r.status == 1, sourceLocation: sourceLocation)
        #expect(r.stderr.contains(daemon.databasePath), "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains("corrupt"), "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(fileBytes(daemon.databasePath) == bytes, sourceLocation: sourceLocation)
    }

    @Test func refusesACorruptDatabase() async throws {
        let daemon = try await stoppedDaemonWithUsers()
        // The users table's root page (schema version 4 rebuilt the table, so it is not page 2).
        let root = try sqlite3(daemon.databasePath, "SELECT rootpage FROM sqlite_master WHERE name = 'users'")
        let page = try #require(Int(root.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        try expectRefusedWithPageOverwritten(daemon, page: page, with: 0xA5, fileHasPages: page)
    }

    /// The whole-file check runs alongside the cache load: damage in a page
    /// the load never reads (an index of the events table) is still refused.
    @Test func refusesCorruptionThatLoadingDoesNotRead() async throws {
        let daemon = try await stoppedDaemonWithUsers()
        let root = try sqlite3(daemon.databasePath, "SELECT rootpage FROM sqlite_master WHERE name = 'events_by_time'")
        let page = try #require(Int(root.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        try expectRefusedWithPageOverwritten(daemon, page: page, with: 0x5A, fileHasPages: page)
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
