import Foundation
import Testing

@testable import VouchCore

@Suite struct MigrationTests {
    @Test func freshDatabaseGetsTheSchemaAndASecondOpenIsANoOp() throws {
        let dir = TempDir()
        let store = try openStore(dir)
        #expect(try store.schemaVersion() == Migrations.latestVersion)
        store.checkpointAndClose()

        let db = try SQLiteDatabase(path: dir.database)
        defer { db.close() }
        #expect(try Migrations.currentVersion(of: db) == Migrations.latestVersion)
        #expect(try Migrations.pending(in: db).isEmpty)
        #expect(try Migrations.migrate(db).isEmpty)
        let columns = try db.prepare("SELECT name FROM pragma_table_info('users') ORDER BY cid")
        var names: [String] = []
        while try columns.step() { names.append(columns.string(0) ?? "") }
        #expect(
            names == [
                "id", "uuid", "username", "username_key", "email", "email_key", "password_hash",
                "flags", "created_at", "updated_at", "last_login", "failed_logins", "locked_until",
                "failures_since",
            ])
        #expect(try db.scalarText("PRAGMA journal_mode") == "wal")
        #expect(try db.scalarInt("PRAGMA foreign_keys") == 1)
        #expect(try db.scalarInt("PRAGMA synchronous") == 2)
    }

    @Test func openWithoutMigrateRefusesPendingMigrations() throws {
        let dir = TempDir()
        #expect {
            _ = try SQLiteUserStore.open(path: dir.database, migrate: false, logger: quietLogger)
        } throws: { ($0 as? StoreError)?.kind == .migrationPending }
        // ...and once migrated, it opens.
        try openStore(dir).checkpointAndClose()
        let store = try SQLiteUserStore.open(
            path: dir.database, migrate: false, logger: quietLogger)
        store.checkpointAndClose()
    }

    @Test func newerSchemaIsRefusedAndLeftByteIdentical() throws {
        let dir = TempDir()
        let db = try SQLiteDatabase(path: dir.database)
        try db.execute("CREATE TABLE future (x INTEGER); PRAGMA user_version = 7;")
        try db.execute("PRAGMA journal_mode = DELETE")
        db.close()
        let before = try #require(fileBytes(dir.database))

        do {
            _ = try SQLiteUserStore.open(path: dir.database, migrate: true, logger: quietLogger)
            Issue.record("a newer schema was opened")
        } catch {
            #expect(error.kind == .schema)
            #expect(
                error.message
                    == "database \(dir.database) has schema version 7, newer than this vouchd "
                    + "supports (\(Migrations.latestVersion)); refusing to modify it")
        }
        #expect(fileBytes(dir.database) == before)
        #expect(!FileManager.default.fileExists(atPath: dir.database + "-wal"))
    }

    @Test func nonSQLiteFileIsRefusedAndNotOverwritten() throws {
        let dir = TempDir()
        let junk = Array(String(repeating: "this is not a database\n", count: 200).utf8)
        #expect(FileManager.default.createFile(atPath: dir.database, contents: Data(junk)))
        do {
            _ = try SQLiteUserStore.open(path: dir.database, migrate: true, logger: quietLogger)
            Issue.record("a text file was opened as a database")
        } catch {
            #expect(error.kind == .notADatabase)
            #expect(error.message.contains(dir.database))
        }
        #expect(fileBytes(dir.database) == junk)
    }

    @Test func migrationsAreNumberedInOrder() {
        for (index, migration) in Migrations.all.enumerated() {
            #expect(migration.version == index + 1)
            #expect(!migration.name.isEmpty)
        }
    }

    /// Issue 11: `users.id` had no AUTOINCREMENT, so after the highest user was
    /// deleted SQLite handed its id out again and the new user inherited its
    /// events.  Migration 4 rebuilds the table; a version-3 database with
    /// users, tokens and events keeps all of them, and the next id is above
    /// every id its events name, even of users deleted before the upgrade.
    @Test func version3DatabaseUpgradesToIdsThatAreNeverReused() throws {
        let dir = TempDir()
        let db = try SQLiteDatabase(path: dir.database)
        for migration in Migrations.all.prefix(3) { try db.execute(migration.sql) }
        try db.execute("PRAGMA user_version = 3")
        try db.execute(
            """
            INSERT INTO users (id, uuid, username, username_key, password_hash, flags, created_at, updated_at,
                failures_since)
            VALUES (1, randomblob(16), 'alice', 'alice', 'x', 1, 1, 1, 5),
                   (2, randomblob(16), 'Bob', 'bob', 'y', 3, 2, 2, NULL),
                   (3, randomblob(16), 'mallory', 'mallory', 'z', 1, 3, 3, NULL);
            INSERT INTO tokens (digest, purpose, user_id, created_at, expires_at)
            VALUES (randomblob(32), 1, 1, 1, 10), (randomblob(32), 1, 2, 1, 10), (randomblob(32), 1, 3, 1, 10);
            INSERT INTO events (time, event, user_id, username, peer_uid, peer_pid)
            VALUES (1, 'user.created', 3, 'mallory', 0, 1), (2, 'login.succeeded', 3, 'mallory', 0, 1),
                   (3, 'user.created', 4, 'eve', 0, 1), (4, 'user.deleted', 4, 'eve', 0, 1);
            DELETE FROM users WHERE id = 3;
            """)
        #expect(try db.scalarInt("SELECT count(*) FROM tokens") == 2, "version 3 cascades the delete")
        db.close()

        let store = try openStore(dir)
        #expect(try store.schemaVersion() == Migrations.latestVersion)
        let users = try store.loadAllUsers()
        #expect(users.map(\.id) == [1, 2])
        #expect(users.map(\.username) == ["alice", "Bob"])
        #expect(users.map(\.flags.rawValue) == [1, 3])
        #expect(users[0].failuresSince == 5)
        // eve (id 4) was deleted before the upgrade: only the events remember her.
        let next = try store.insert(sampleRow("bob2"))
        #expect(next.id == 5)
        try store.delete(id: next.id)
        #expect(try store.insert(sampleRow("carol")).id == 6)
        // A user's delete still cascades to its tokens; the other tokens are intact.
        try store.delete(id: 2)
        store.checkpointAndClose()

        let check = try SQLiteDatabase(path: dir.database)
        defer { check.close() }
        #expect(try check.scalarInt("SELECT count(*) FROM tokens") == 1)
        #expect(try check.scalarInt("SELECT count(*) FROM events") == 4)
        #expect(try check.scalarInt("PRAGMA foreign_keys") == 1)
        #expect(try check.scalarInt("SELECT count(*) FROM pragma_foreign_key_check") == 0)
        let sql = try #require(try check.scalarText("SELECT sql FROM sqlite_schema WHERE name = 'users'"))
        #expect(sql.contains("AUTOINCREMENT") && sql.contains("STRICT"))
    }

    @Test func aFreshDatabaseNeverReusesTheIdOfItsLastDeletedUser() throws {
        let dir = TempDir()
        let store = try openStore(dir)
        defer { store.checkpointAndClose() }
        _ = try store.insert(sampleRow("alice"))
        let mallory = try store.insert(sampleRow("mallory"))
        try store.delete(id: mallory.id)
        #expect(try store.insert(sampleRow("bob")).id == mallory.id + 1)
    }
}
