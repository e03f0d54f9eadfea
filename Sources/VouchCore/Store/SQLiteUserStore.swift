import FoundationEssentials
import Logging
import Synchronization

/// ``UserStore`` over one SQLite connection, serialised by a mutex.
/// Every write is its own `BEGIN IMMEDIATE` transaction with synchronous=FULL,
/// so an acknowledged write survives a crash.
public final class SQLiteUserStore: UserStore {
    public let path: String
    let database: Locked<SQLiteDatabase>
    let logger: Logger
    let busyTimeoutMillis: Int32
    /// Set by `checkpointAndClose`: a closed connection is then not reopened.
    let shutDown = Atomic<Bool>(false)
    /// `open` left the whole-file check to the caller (see ``checkIntegrity()``).
    public let integrityCheckDeferred: Bool

    private init(
        database: consuming sending SQLiteDatabase, busyTimeoutMillis: Int32, logger: Logger,
        integrityCheckDeferred: Bool = false
    ) {
        self.integrityCheckDeferred = integrityCheckDeferred
        self.path = database.path
        self.database = Locked(database)
        self.busyTimeoutMillis = busyTimeoutMillis
        self.logger = logger
    }

    /// Opens the database at `path`.  With `migrate`, pending migrations
    /// run first; without, a database that needs migrating is refused.
    /// A database with a newer schema is always refused, unmodified.
    /// A corrupt file is refused, unmodified, too.  `busyTimeoutMillis` bounds
    /// the wait for another process's lock on every statement.
    ///
    /// With `deferIntegrityCheck`, a file that opening will not write to (already
    /// in WAL mode, no migration pending) skips the whole-file `quick_check`
    /// here: the caller runs ``checkIntegrity()`` itself, alongside loading
    /// the caches, and writes nothing until it has passed
    /// (``integrityCheckDeferred`` says whether it must).
    public static func open(
        path: String, migrate: Bool, busyTimeoutMillis: Int32 = SQLiteDatabase.busyTimeoutMillis,
        logger: Logger, deferIntegrityCheck: Bool = false
    ) throws(StoreError) -> SQLiteUserStore {
        var deferred = false
        // Refuse a newer schema or a corrupt file before WAL mode rewrites the header.
        let db = try SQLiteDatabase(path: path, busyTimeoutMillis: busyTimeoutMillis) { db throws(StoreError) in
            if deferIntegrityCheck, try openingWritesNothing(db) {
                try Migrations.checkNotNewer(db)
                deferred = true
            } else {
                try validateBeforeWriting(db)
            }
        }
        do throws(StoreError) {
            if migrate {
                let applied = try Migrations.migrate(db)
                for m in applied {
                    logger.notice(
                        "applied database migration",
                        metadata: [
                            "version": "\(m.version)", "name": "\(m.name)", "path": "\(path)",
                        ])
                }
            } else {
                let pending = try Migrations.pending(in: db)
                if !pending.isEmpty {
                    throw StoreError(
                        .migrationPending,
                        message: "database \(path) has schema version "
                            + "\(Migrations.latestVersion - pending.count); this vouchd needs "
                            + "\(Migrations.latestVersion): run the migration first")
                }
            }
        } catch {
            db.close()
            throw error
        }
        return SQLiteUserStore(
            database: db, busyTimeoutMillis: busyTimeoutMillis, logger: logger, integrityCheckDeferred: deferred)
    }

    /// Whether opening leaves the file as it is: already in WAL mode, and
    /// no migration pending.
    private static func openingWritesNothing(_ db: SQLiteDatabase) throws(StoreError) -> Bool {
        guard try db.scalarText("PRAGMA journal_mode")?.lowercased() == "wal" else { return false }
        return try Migrations.pending(in: db).isEmpty
    }

    /// SQLite's `quick_check` of the whole file, on a connection of its own
    /// (so it can run while the caches load); throws `.notADatabase` naming
    /// what is wrong.
    public func checkIntegrity() throws(StoreError) {
        let db = try SQLiteDatabase(path: path, busyTimeoutMillis: busyTimeoutMillis)
        defer { db.close() }
        try Self.quickCheck(db)
    }

    // MARK: - UserStore

    private static let columns = """
        id, uuid, username, email, password_hash, flags, created_at, updated_at, last_login, \
        failed_logins, locked_until, failures_since
        """

    public func loadAllUsers() throws(AccountError) -> [User] {
        try withDatabase("load users") { db throws(StoreError) -> [User] in
            let stmt = try db.prepare("SELECT \(Self.columns) FROM users ORDER BY id")
            var users: [User] = []
            while try stmt.step() {
                users.append(try Self.user(from: stmt, path: db.path))
            }
            return users
        }
    }

    public func insert(_ row: NewUserRow) throws(AccountError) -> User {
        try withDatabase("insert user") { db throws(StoreError) -> User in
            try db.transaction { () throws(StoreError) -> User in
                let stmt = try db.prepare(
                    """
                    INSERT INTO users (uuid, username, username_key, email, email_key,
                        password_hash, flags, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                try stmt.bind(
                    .blob(Self.bytes(row.uuid)), .text(row.username),
                    .text(IdentityRules.canonicalKey(row.username)), .text(row.email),
                    .text(row.email.map(IdentityRules.canonicalKey)), .text(row.passwordHash),
                    .int(Int64(row.flags.rawValue)), .int(row.createdAt), .int(row.createdAt))
                try stmt.step()
                return User(
                    id: db.lastInsertRowID, uuid: row.uuid, username: row.username,
                    email: row.email, passwordHash: row.passwordHash, flags: row.flags,
                    createdAt: row.createdAt, updatedAt: row.createdAt)
            }
        }
    }

    public func update(_ user: User) throws(AccountError) {
        let changed = try withDatabase("update user") { db throws(StoreError) -> Int in
            try db.transaction { () throws(StoreError) -> Int in try Self.update(user, in: db) }
        }
        if changed == 0 { throw AccountError.notFound(.id(user.id)) }
    }

    public func updateLogin(id: Int64, lastLogin: Int64, passwordHash: String?) throws(AccountError) {
        let changed = try withDatabase("record login") { db throws(StoreError) -> Int in
            try db.transaction { () throws(StoreError) -> Int in
                try Self.updateLogin(id: id, lastLogin: lastLogin, passwordHash: passwordHash, in: db)
            }
        }
        if changed == 0 { throw AccountError.notFound(.id(id)) }
    }

    public func recordLogin(_ user: User, wholeRow: Bool, rehashed: Bool, session: TokenRecord?)
        throws(AccountError) -> TokenRecord?
    {
        let (changed, stored) = try withDatabase("record login") { db throws(StoreError) -> (Int, TokenRecord?) in
            try db.transaction { () throws(StoreError) -> (Int, TokenRecord?) in
                let changed =
                    wholeRow
                    ? try Self.update(user, in: db)
                    : try Self.updateLogin(
                        id: user.id, lastLogin: user.lastLogin ?? 0, passwordHash: rehashed ? user.passwordHash : nil,
                        in: db)
                guard changed > 0 else { return (0, nil) }
                return (changed, try session.map { r throws(StoreError) in try Self.insertToken(r, into: db) })
            }
        }
        if changed == 0 { throw AccountError.notFound(.id(user.id)) }
        return stored
    }

    /// Replaces every mutable field of `user` inside the caller's transaction; the rows changed.
    private static func update(_ user: User, in db: SQLiteDatabase) throws(StoreError) -> Int {
        let stmt = try db.prepare(
            """
            UPDATE users SET username = ?, username_key = ?, email = ?, email_key = ?,
                password_hash = ?, flags = ?, updated_at = ?, last_login = ?,
                failed_logins = ?, locked_until = ?, failures_since = ?
            WHERE id = ?
            """)
        try stmt.bind(
            .text(user.username), .text(IdentityRules.canonicalKey(user.username)),
            .text(user.email), .text(user.email.map(IdentityRules.canonicalKey)),
            .text(user.passwordHash), .int(Int64(user.flags.rawValue)),
            .int(user.updatedAt), .int(user.lastLogin), .int(Int64(user.failedLogins)),
            .int(user.lockedUntil), .int(user.failuresSince), .int(user.id))
        try stmt.step()
        return db.changes
    }

    /// Sets the last login (and a rehash) inside the caller's transaction; the rows changed.
    private static func updateLogin(id: Int64, lastLogin: Int64, passwordHash: String?, in db: SQLiteDatabase)
        throws(StoreError) -> Int
    {
        let stmt: SQLiteStatement
        if let passwordHash {
            stmt = try db.prepare("UPDATE users SET last_login = ?, password_hash = ?, updated_at = ? WHERE id = ?")
            try stmt.bind(.int(lastLogin), .text(passwordHash), .int(lastLogin), .int(id))
        } else {
            stmt = try db.prepare("UPDATE users SET last_login = ? WHERE id = ?")
            try stmt.bind(.int(lastLogin), .int(id))
        }
        try stmt.step()
        return db.changes
    }

    public func delete(id: Int64) throws(AccountError) {
        let changed = try withDatabase("delete user") { db throws(StoreError) -> Int in
            try db.transaction { () throws(StoreError) -> Int in
                let stmt = try db.prepare("DELETE FROM users WHERE id = ?")
                try stmt.bind(.int(id))
                try stmt.step()
                return db.changes
            }
        }
        if changed == 0 { throw AccountError.notFound(.id(id)) }
    }

    /// Closes without a checkpoint: a file refused as corrupt gets nothing
    /// copied into it, not even frames left in its WAL.
    public func closeWithoutCheckpoint() {
        shutDown.store(true, ordering: .sequentiallyConsistent)
        database.withLock { db in db.close() }
    }

    public func checkpointAndClose() {
        shutDown.store(true, ordering: .sequentiallyConsistent)
        database.withLock { db in
            guard db.isOpen else { return }
            do {
                try db.checkpoint()
            } catch {
                logger.warning("database checkpoint failed", metadata: ["error": "\(error)"])
            }
            db.close()
        }
    }

    /// The schema version of the open database.
    public func schemaVersion() throws(AccountError) -> Int {
        try withDatabase("read schema version") { db throws(StoreError) -> Int in
            try Migrations.currentVersion(of: db)
        }
    }

    /// Usernames the rules no longer accept for new users because they begin
    /// with '-' (they were accepted before; `vouchd migrate` reports them).
    public func usernamesBeginningWithDash() throws(AccountError) -> [String] {
        try withDatabase("list usernames") { db throws(StoreError) -> [String] in
            let stmt = try db.prepare("SELECT username FROM users WHERE substr(username, 1, 1) = '-' ORDER BY id")
            var names: [String] = []
            while try stmt.step() { names.append(stmt.string(0) ?? "") }
            return names
        }
    }

    // MARK: - Helpers

    /// Runs `body` under the lock and maps storage errors to account errors.
    /// A connection closed after an I/O error is reopened first; an I/O
    /// error, a read-only or corrupt file closes it, so the next use starts
    /// from a fresh connection (and the file's state on disk).
    func withDatabase<R: Sendable>(
        _ operation: String, _ body: (SQLiteDatabase) throws(StoreError) -> R
    ) throws(AccountError) -> R {
        do throws(StoreError) {
            return try database.withLock { db throws(StoreError) -> R in
                if !db.isOpen && !shutDown.load(ordering: .sequentiallyConsistent) {
                    db = try reopen()
                }
                do throws(StoreError) {
                    return try body(db)
                } catch {
                    if [.ioError, .readOnly, .notADatabase].contains(error.kind) {
                        db.close()
                    }
                    throw error
                }
            }
        } catch {
            throw map(error, operation: operation)
        }
    }

    /// A new connection to the same file, which must still have the current schema.
    private func reopen() throws(StoreError) -> SQLiteDatabase {
        let db = try SQLiteDatabase(
            path: path, busyTimeoutMillis: busyTimeoutMillis, validate: Migrations.checkNotNewer)
        do throws(StoreError) {
            let version = try Migrations.currentVersion(of: db)
            guard version == Migrations.latestVersion else {
                throw StoreError(
                    .schema, message: "database \(path) changed to schema version \(version) while open")
            }
        } catch {
            db.close()
            throw error
        }
        logger.notice("reopened the user database", metadata: ["path": "\(path)"])
        return db
    }

    /// Checks done before anything writes to the file: the schema is not
    /// newer than this binary, and SQLite finds the file sound.
    static func validateBeforeWriting(_ db: SQLiteDatabase) throws(StoreError) {
        try Migrations.checkNotNewer(db)
        try quickCheck(db)
    }

    private static func quickCheck(_ db: SQLiteDatabase) throws(StoreError) {
        let stmt = try db.prepare("PRAGMA quick_check(5)")
        var problems: [String] = []
        while try stmt.step() {
            if let line = stmt.string(0), line != "ok" { problems.append(line) }
        }
        if !problems.isEmpty {
            throw StoreError(
                .notADatabase,
                message: "database \(db.path) is corrupt (\(problems.joined(separator: "; "))); "
                    + "refusing to use or modify it: restore a backup")
        }
    }

    private func map(_ error: StoreError, operation: String) -> AccountError {
        if error.kind == .uniqueViolation {
            switch error.constraint {
            case "users.username_key": return AccountError(.usernameTaken)
            case "users.email_key": return AccountError(.emailTaken)
            default: break
            }
        }
        logger.error(
            "user database operation failed",
            metadata: [
                "operation": "\(operation)", "kind": "\(error.kind.rawValue)",
                "error": "\(error)",
            ])
        return AccountError(.storageUnavailable, Self.unavailableReason(error.kind))
    }

    /// What a client is told when a write could not be made.
    static func unavailableReason(_ kind: StoreError.Kind) -> String {
        switch kind {
        case .busy:
            return "Storage unavailable: the database is locked by another process; nothing was changed"
        case .diskFull:
            return "Storage unavailable: the disk holding the database is full; nothing was changed"
        case .readOnly:
            return "Storage unavailable: the database is read-only; nothing was changed"
        case .ioError:
            return "Storage unavailable: I/O error on the database; nothing was changed"
        case .notADatabase:
            return "Storage unavailable: the database file is damaged; nothing was changed"
        default:
            return "The user database is unavailable (\(kind.rawValue))"
        }
    }

    static func bytes(_ uuid: UUID) -> [UInt8] {
        withUnsafeBytes(of: uuid.uuid) { Array($0) }
    }

    static func user(from stmt: SQLiteStatement, path: String) throws(StoreError) -> User {
        // The uuid is read in place: no array per row (start-up reads every row).
        let uuid = stmt.withBlob(1) { raw -> UUID? in
            guard raw.count == 16 else { return nil }
            return UUID(
                uuid: (
                    raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7],
                    raw[8], raw[9], raw[10], raw[11], raw[12], raw[13], raw[14], raw[15]
                ))
        }
        // The hash is packed straight from the column (see PackedPasswordHash).
        let hash = stmt.withText(4) { $0.map(PackedPasswordHash.init(utf8:)) }
        guard let uuid, let username = stmt.string(2), let hash else {
            throw StoreError(.notADatabase, message: "database \(path) holds a malformed user row")
        }
        return User(
            id: stmt.int64(0), uuid: uuid, username: username, email: stmt.string(3),
            packedHash: hash,
            flags: UserFlags(rawValue: UInt8(truncatingIfNeeded: stmt.int64(5))),
            createdAt: stmt.int64(6), updatedAt: stmt.int64(7), lastLogin: stmt.optionalInt64(8),
            failedLogins: UInt32(clamping: stmt.int64(9)), lockedUntil: stmt.optionalInt64(10),
            failuresSince: stmt.optionalInt64(11))
    }
}
