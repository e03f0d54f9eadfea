import Foundation
import Testing
import VouchClient
import VouchProtocol

/// Issue 11: user ids were reused, so a new user inherited a deleted user's
/// audit trail (`events.user_id`, hooks' `user.id`, `user show ID`).  An id is
/// now never handed out twice, and the high-water mark travels with a backup.
@Suite struct UserIdTests {
    /// The reproduction, through vouchctl.
    @Test func aNewUserNeverGetsADeletedUsersIdNorItsEvents() async throws {
        let daemon = try await TestDaemon()
        func ctl(_ args: [String], _ stdin: String? = nil) throws -> ProcessResult {
            let r = try daemon.vouchctl(args, stdin: stdin)
            #expect(r.status == 0, "\(args): \(r.stderr)")
            return r
        }
        _ = try ctl(["user", "create", "--username", "alice", "--password-stdin"], "secret-pw-1\n")
        _ = try ctl(["user", "create", "--username", "mallory", "--password-stdin"], "secret-pw-1\n")
        let malloryID = try ctl(["login", "mallory", "--password-stdin"], "secret-pw-1\n").out
        #expect(malloryID == "2")
        _ = try ctl(["user", "delete", "mallory", "--yes"])
        _ = try ctl(["user", "create", "--username", "bob", "--password-stdin"], "secret-pw-2\n")
        let bobID = try ctl(["login", "bob", "--password-stdin"], "secret-pw-2\n").out
        #expect(bobID == "3")
        let events = try ctl(["events", "--user", "bob", "--json"]).out
        #expect(!events.contains("mallory"), "\(events)")
        #expect(events.contains("bob"))
        let show = try daemon.vouchctl(["user", "show", "2"])
        #expect(show.status == 1, "\(show.stdout)")

        // A restart keeps the high-water mark (it is in the database).
        _ = try ctl(["user", "delete", "bob", "--yes"])
        try await daemon.restart()
        let carol = try await daemon.createUser("carol", password: "secret-pw-3")
        #expect(carol.id == 4)
    }

    /// A backup is the database file: restoring it keeps the mark, so a user
    /// created after the restore does not take the id of one deleted before the backup.
    @Test func aRestoredBackupKeepsTheHighWaterMark() async throws {
        let daemon = try await TestDaemon()
        try await daemon.createUser("alice", password: "secret-pw-1")
        let mallory = try await daemon.createUser("mallory", password: "secret-pw-1")
        let client = try await daemon.client()
        try await client.deleteUser(.id(mallory.id))
        await client.close()
        let copy = daemon.directory + "/backup.db"
        let r = try daemon.vouchctl(["backup", copy])
        #expect(r.status == 0, "\(r.stderr)")
        daemon.stop()

        let restored = try await TestDaemon(start: false)
        try FileManager.default.copyItem(atPath: copy, toPath: restored.databasePath)
        try await restored.start()
        let bob = try await restored.createUser("bob", password: "secret-pw-2")
        #expect(bob.id == mallory.id + 1)
    }

    /// An import assigns ids from the importing database's own mark: ids of
    /// users deleted there are not handed out again.
    @Test func anImportNeverReusesTheImportingDatabasesIds() async throws {
        let source = try await TestDaemon()
        try await source.createUser("dave", password: "secret-pw-4")
        try await source.createUser("erin", password: "secret-pw-5")
        let file = source.directory + "/users.jsonl"
        #expect(try source.vouchctl(["user", "export", "--output", file]).status == 0)

        let target = try await TestDaemon()
        try await target.createUser("alice", password: "secret-pw-1")
        let mallory = try await target.createUser("mallory", password: "secret-pw-1")
        let client = try await target.client()
        defer { Task { await client.close() } }
        try await client.deleteUser(.id(mallory.id))
        let r = try target.vouchctl(["user", "import", file])
        #expect(r.status == 0, "\(r.stderr)")
        let ids = try await client.users().users.map(\.id).sorted()
        #expect(ids == [1, 3, 4])
    }
}
