import CSQLite
import Glibc

/// A thin wrapper over one sqlite3 connection.
///
/// Not thread-safe: the owner serialises access (``SQLiteUserStore`` holds a
/// lock around every use).  Opens the database with WAL, synchronous=FULL,
/// foreign keys on and a busy timeout (5 s unless told), and creates a missing file with
/// mode 0600 whatever the umask.
public final class SQLiteDatabase {
    public let path: String
    private var handle: OpaquePointer?

    /// How long a statement waits for another process's lock, by default.
    public static let busyTimeoutMillis: Int32 = 5000

    /// Opens (and if missing, creates) the database at `path`.
    ///
    /// `validate` runs after a first read and before anything is written
    /// (WAL mode changes the file header): a throw closes the connection
    /// with the file untouched.
    public init(
        path: String, busyTimeoutMillis: Int32 = SQLiteDatabase.busyTimeoutMillis,
        validate: (SQLiteDatabase) throws(StoreError) -> Void = { _ throws(StoreError) in }
    ) throws(StoreError) {
        self.path = path
        try Self.createIfMissing(path)
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw StoreError(
                StoreError.kind(forSQLiteCode: rc), sqliteCode: rc,
                message: "cannot open database \(path): \(message)")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, busyTimeoutMillis)
        do throws(StoreError) {
            // A read first: a file that is not a database fails here without
            // SQLite writing anything to it.
            _ = try scalarInt("SELECT count(*) FROM sqlite_master")
            try validate(self)
            let mode = try scalarText("PRAGMA journal_mode=WAL")
            guard mode?.lowercased() == "wal" else {
                throw StoreError(.other, message: "database \(path) cannot use WAL journaling")
            }
            try execute("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Whether the connection is open.
    public var isOpen: Bool { handle != nil }

    /// Closes the connection; later calls fail with `.closed`.
    public func close() {
        if let handle {
            sqlite3_close_v2(handle)
            self.handle = nil
        }
    }

    /// Copies the WAL into the main file and truncates it.
    public func checkpoint() throws(StoreError) {
        let db = try connection()
        let rc = sqlite3_wal_checkpoint_v2(db, nil, SQLITE_CHECKPOINT_TRUNCATE, nil, nil)
        guard rc == SQLITE_OK else { throw error(rc, "checkpoint") }
    }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws(StoreError) {
        let db = try connection()
        let rc = sqlite3_exec(db, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw error(rc, "statement") }
    }

    /// Compiles one statement.
    public func prepare(_ sql: String) throws(StoreError) -> SQLiteStatement {
        let db = try connection()
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc, "prepare") }
        return SQLiteStatement(handle: stmt, database: self)
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction: committed when it
    /// returns, rolled back when it throws or the commit fails.
    public func transaction<R>(_ body: () throws(StoreError) -> R) throws(StoreError) -> R {
        try execute("BEGIN IMMEDIATE")
        do throws(StoreError) {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            if let db = handle, sqlite3_get_autocommit(db) == 0 {
                sqlite3_exec(db, "ROLLBACK", nil, nil, nil)
            }
            throw error
        }
    }

    /// The rowid of the last successful INSERT.
    public var lastInsertRowID: Int64 {
        handle.map { sqlite3_last_insert_rowid($0) } ?? 0
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int {
        handle.map { Int(sqlite3_changes($0)) } ?? 0
    }

    /// The first column of the first row as an integer, or nil.
    public func scalarInt(_ sql: String) throws(StoreError) -> Int64? {
        let stmt = try prepare(sql)
        return try stmt.step() ? stmt.int64(0) : nil
    }

    /// The first column of the first row as text, or nil.
    public func scalarText(_ sql: String) throws(StoreError) -> String? {
        let stmt = try prepare(sql)
        return try stmt.step() ? stmt.string(0) : nil
    }

    func connection() throws(StoreError) -> OpaquePointer {
        guard let handle else {
            throw StoreError(.closed, message: "database \(path) is closed")
        }
        return handle
    }

    /// A typed error for `rc`, with SQLite's message (which names tables and
    /// columns, never bound values).
    func error(_ rc: Int32, _ context: String) -> StoreError {
        let code = handle.map { sqlite3_extended_errcode($0) } ?? rc
        let sqliteMessage = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "closed"
        let kind = StoreError.kind(forSQLiteCode: code)
        let message: String
        switch kind {
        case .notADatabase:
            message = "\(path) is not a SQLite database or is corrupt"
        case .readOnly: message = "database \(path) is read-only"
        case .diskFull: message = "database \(path): the disk is full"
        case .ioError: message = "database \(path): I/O error"
        case .busy: message = "database \(path) is locked by another process (database is locked)"
        case .uniqueViolation, .constraint: message = sqliteMessage
        default: message = "database \(path): \(context) failed: \(sqliteMessage)"
        }
        var constraint: String?
        // "UNIQUE constraint failed: users.username_key": the last word names the column.
        if kind == .uniqueViolation, let space = sqliteMessage.lastIndex(of: " ") {
            constraint = String(sqliteMessage[sqliteMessage.index(after: space)...])
        }
        return StoreError(kind, sqliteCode: code, message: message, constraint: constraint)
    }

    /// Creates an empty file with mode 0600 (not subject to the umask) when
    /// `path` does not exist, so SQLite never creates it with a wider mode.
    private static func createIfMissing(_ path: String) throws(StoreError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if fd < 0 {
            let err = errno
            if err == EEXIST { return }
            let kind: StoreError.Kind =
                switch err {
                case EROFS, EACCES, EPERM: .readOnly
                case ENOSPC, EDQUOT: .diskFull
                default: .cannotOpen
                }
            throw StoreError(
                kind, message: "cannot create database \(path): \(String(cString: strerror(err)))")
        }
        defer { Glibc.close(fd) }
        if fchmod(fd, 0o600) != 0 {
            let err = errno
            throw StoreError(
                .cannotOpen,
                message: "cannot set mode 0600 on \(path): \(String(cString: strerror(err)))")
        }
    }
}
