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
}
