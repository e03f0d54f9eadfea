import CSQLite

/// A failure of the user database.  Carries the SQLite result code and a
/// short message; never a value that was bound into a statement (no
/// passwords, hashes, usernames or emails).
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        /// The file is not a SQLite database, or it is corrupt.
        case notADatabase = "not a database"
        /// The file or its directory cannot be written.
        case readOnly = "read-only"
        /// The disk or the quota is full.
        case diskFull = "disk full"
        /// The operating system reported an I/O error.
        case ioError = "I/O error"
        /// Another process holds a lock on the database.
        case busy = "busy"
        /// The file cannot be opened or created.
        case cannotOpen = "cannot open"
        /// The schema is newer than this binary or otherwise unusable.
        case schema = "schema"
        /// Migrations are pending and the caller asked not to run them.
        case migrationPending = "migration pending"
        /// A UNIQUE constraint failed; `constraint` names the column.
        case uniqueViolation = "unique violation"
        /// Another constraint (CHECK, NOT NULL, ...) failed.
        case constraint = "constraint"
        /// The connection was closed.
        case closed = "closed"
        /// Anything else.
        case other = "other"
    }

    public var kind: Kind
    /// The SQLite extended result code, or 0 when the error did not come from SQLite.
    public var sqliteCode: Int32
    /// Human text; names the file where that helps, never a bound value.
    public var message: String
    /// For `.uniqueViolation`: the column, e.g. "users.username_key".
    public var constraint: String?

    public init(_ kind: Kind, sqliteCode: Int32 = 0, message: String, constraint: String? = nil) {
        self.kind = kind
        self.sqliteCode = sqliteCode
        self.message = message
        self.constraint = constraint
    }

    public var description: String {
        sqliteCode == 0 ? message : "\(message) (SQLite code \(sqliteCode))"
    }

    /// Maps a SQLite result code to a kind.
    static func kind(forSQLiteCode code: Int32) -> Kind {
        switch code & 0xFF {
        case SQLITE_NOTADB, SQLITE_CORRUPT: return .notADatabase
        case SQLITE_READONLY, SQLITE_PERM: return .readOnly
        case SQLITE_FULL: return .diskFull
        case SQLITE_IOERR: return .ioError
        case SQLITE_BUSY, SQLITE_LOCKED: return .busy
        case SQLITE_CANTOPEN: return .cannotOpen
        case SQLITE_CONSTRAINT:
            // SQLITE_CONSTRAINT_UNIQUE (2067), SQLITE_CONSTRAINT_PRIMARYKEY (1555).
            return code == 2067 || code == 1555 ? .uniqueViolation : .constraint
        case SQLITE_MISUSE: return .closed
        default: return .other
        }
    }
}
