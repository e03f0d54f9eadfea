/// The schema of the user database, as an ordered list of migrations.
///
/// A shipped migration is never edited: a schema change is a new entry at
/// the end.  The version is `PRAGMA user_version` (the number of migrations
/// applied); every pending migration runs in one transaction, so a failure
/// leaves the database at its old version.
public enum Migrations {
    public struct Migration: Sendable {
        public let version: Int
        public let name: String
        public let sql: String
    }

    /// Every migration, in order; `all[i].version == i + 1`.
    public static let all: [Migration] = [
        Migration(version: 1, name: "create users", sql: createUsers),
        Migration(version: 2, name: "create tokens and events", sql: createTokensAndEvents),
        Migration(version: 3, name: "lockout window", sql: addFailuresSince),
        Migration(version: 4, name: "user ids never reused", sql: usersAutoincrement),
        Migration(version: 5, name: "linux logins and password aging", sql: createLogins),
        Migration(version: 6, name: "names unique ignoring ASCII case only", sql: asciiCaseKeys),
    ]

    /// The schema version this binary writes.
    public static var latestVersion: Int { all.count }

    /// The schema version of `db` (0 for a new, empty database).
    public static func currentVersion(of db: SQLiteDatabase) throws(StoreError) -> Int {
        Int(try db.scalarInt("PRAGMA user_version") ?? 0)
    }

    /// Throws `.schema` when `db` has a newer schema than this binary.
    /// Reads only, so it can run before the connection is configured.
    public static func checkNotNewer(_ db: SQLiteDatabase) throws(StoreError) {
        try refuseNewer(try currentVersion(of: db), db: db)
    }

    /// Versions not yet applied to `db`.  Throws `.schema` when the database
    /// is newer than this binary.
    public static func pending(in db: SQLiteDatabase) throws(StoreError) -> [Migration] {
        let current = try currentVersion(of: db)
        try refuseNewer(current, db: db)
        return Array(all.dropFirst(current))
    }

    /// Applies every pending migration in one transaction.  Returns the
    /// migrations applied (empty when the schema is current).  A database
    /// with a newer schema is refused and never modified.
    ///
    /// Foreign keys are off while migrations run (SQLite's procedure for
    /// rebuilding a table: dropping the old one must not cascade to its
    /// tokens) and checked before the commit.
    @discardableResult
    public static func migrate(_ db: SQLiteDatabase) throws(StoreError) -> [Migration] {
        guard try !pending(in: db).isEmpty else { return [] }
        try db.execute("PRAGMA foreign_keys=OFF")
        defer { try? db.execute("PRAGMA foreign_keys=ON") }
        return try db.transaction { () throws(StoreError) -> [Migration] in
            // Read again inside the write lock: another process may have migrated.
            let current = try currentVersion(of: db)
            try refuseNewer(current, db: db)
            let todo = Array(all.dropFirst(current))
            for migration in todo {
                try db.execute(migration.sql)
            }
            if let table = try db.scalarText("SELECT \"table\" FROM pragma_foreign_key_check LIMIT 1") {
                throw StoreError(
                    .schema, message: "database \(db.path): migration left rows of \(table) without their user")
            }
            try db.execute("PRAGMA user_version = \(latestVersion)")
            return todo
        }
    }

    static func refuseNewer(_ current: Int, db: SQLiteDatabase) throws(StoreError) {
        if current > latestVersion {
            throw StoreError(
                .schema,
                message: "database \(db.path) has schema version \(current), newer than this "
                    + "vouchd supports (\(latestVersion)); refusing to modify it")
        }
        if current < 0 {
            throw StoreError(
                .schema, message: "database \(db.path) has an invalid schema version \(current)")
        }
    }

    // MARK: - Shipped migrations (never edit)

    static let createUsers = """
        CREATE TABLE users (
            id            INTEGER PRIMARY KEY,
            uuid          BLOB    NOT NULL UNIQUE CHECK (typeof(uuid) = 'blob' AND length(uuid) = 16),
            username      TEXT    NOT NULL CHECK (length(username) BETWEEN 1 AND 100),
            username_key  TEXT    NOT NULL UNIQUE CHECK (length(username_key) >= 1),
            email         TEXT    CHECK (email IS NULL OR length(email) BETWEEN 3 AND 254),
            email_key     TEXT    UNIQUE,
            password_hash TEXT    NOT NULL CHECK (length(password_hash) BETWEEN 1 AND 1024),
            flags         INTEGER NOT NULL DEFAULT 0 CHECK (flags BETWEEN 0 AND 15),
            created_at    INTEGER NOT NULL,
            updated_at    INTEGER NOT NULL,
            last_login    INTEGER,
            failed_logins INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
            locked_until  INTEGER,
            CHECK ((email IS NULL) = (email_key IS NULL))
        ) STRICT;
        """

    static let createTokensAndEvents = """
        CREATE TABLE tokens (
            id          INTEGER PRIMARY KEY,
            digest      BLOB    NOT NULL UNIQUE CHECK (typeof(digest) = 'blob' AND length(digest) = 32),
            purpose     INTEGER NOT NULL CHECK (purpose IN (1, 2, 3)),
            user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            label       TEXT    NOT NULL DEFAULT '' CHECK (length(label) <= 100),
            fingerprint BLOB,
            created_at  INTEGER NOT NULL,
            expires_at  INTEGER NOT NULL CHECK (expires_at >= created_at),
            last_used   INTEGER
        ) STRICT;
        CREATE INDEX tokens_by_user ON tokens(user_id);
        CREATE INDEX tokens_by_expiry ON tokens(expires_at);
        CREATE TABLE events (
            id        INTEGER PRIMARY KEY,
            time      INTEGER NOT NULL,
            event     TEXT    NOT NULL CHECK (length(event) BETWEEN 1 AND 64),
            user_id   INTEGER,
            username  TEXT    NOT NULL DEFAULT '',
            peer_uid  INTEGER NOT NULL,
            peer_pid  INTEGER NOT NULL,
            detail    TEXT    NOT NULL DEFAULT '{}'
        ) STRICT;
        CREATE INDEX events_by_time ON events(time);
        CREATE INDEX events_by_user ON events(user_id, time);
        """

    /// When the current window of failed logins began (lockout, like pam_faillock's fail_interval).
    static let addFailuresSince = """
        ALTER TABLE users ADD COLUMN failures_since INTEGER;
        """

    /// `users.id` with AUTOINCREMENT, so an id is never handed out twice (a
    /// new user must not inherit a deleted one's events).  SQLite cannot add
    /// it in place: the table is rebuilt with the same columns and rows, and
    /// the high-water mark starts above every id the events and tokens still
    /// name (users deleted before this migration).
    static let usersAutoincrement = """
        CREATE TABLE users_v4 (
            id             INTEGER PRIMARY KEY AUTOINCREMENT,
            uuid           BLOB    NOT NULL UNIQUE CHECK (typeof(uuid) = 'blob' AND length(uuid) = 16),
            username       TEXT    NOT NULL CHECK (length(username) BETWEEN 1 AND 100),
            username_key   TEXT    NOT NULL UNIQUE CHECK (length(username_key) >= 1),
            email          TEXT    CHECK (email IS NULL OR length(email) BETWEEN 3 AND 254),
            email_key      TEXT    UNIQUE,
            password_hash  TEXT    NOT NULL CHECK (length(password_hash) BETWEEN 1 AND 1024),
            flags          INTEGER NOT NULL DEFAULT 0 CHECK (flags BETWEEN 0 AND 15),
            created_at     INTEGER NOT NULL,
            updated_at     INTEGER NOT NULL,
            last_login     INTEGER,
            failed_logins  INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
            locked_until   INTEGER,
            failures_since INTEGER,
            CHECK ((email IS NULL) = (email_key IS NULL))
        ) STRICT;
        INSERT INTO users_v4 (id, uuid, username, username_key, email, email_key, password_hash, flags,
            created_at, updated_at, last_login, failed_logins, locked_until, failures_since)
        SELECT id, uuid, username, username_key, email, email_key, password_hash, flags,
            created_at, updated_at, last_login, failed_logins, locked_until, failures_since
        FROM users;
        DROP TABLE users;
        ALTER TABLE users_v4 RENAME TO users;
        INSERT INTO sqlite_sequence (name, seq)
            SELECT 'users', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'users');
        UPDATE sqlite_sequence SET seq = max(
            seq,
            (SELECT coalesce(max(id), 0) FROM users),
            (SELECT coalesce(max(user_id), 0) FROM events),
            (SELECT coalesce(max(user_id), 0) FROM tokens))
        WHERE name = 'users';
        """

    /// Linux logins (docs/LINUX-LOGINS.md) and password aging.  `login_uids`
    /// keeps every uid ever given out, so a deleted user's uid is never reused.
    static let createLogins = """
        CREATE TABLE login_uids (
            uid          INTEGER PRIMARY KEY CHECK (uid BETWEEN 1000 AND 2147483646),
            user_id      INTEGER NOT NULL,
            allocated_at INTEGER NOT NULL
        ) STRICT;
        CREATE TABLE user_logins (
            user_id              INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
            login                INTEGER NOT NULL DEFAULT 0 CHECK (login IN (0, 1)),
            uid                  INTEGER UNIQUE REFERENCES login_uids(uid),
            real_name            TEXT    NOT NULL DEFAULT '' CHECK (length(real_name) <= 256),
            home                 TEXT    CHECK (home IS NULL OR length(home) BETWEEN 2 AND 4000),
            shell                TEXT    CHECK (shell IS NULL OR length(shell) BETWEEN 2 AND 4000),
            password_changed_at  INTEGER,
            password_max_age     INTEGER CHECK (password_max_age IS NULL OR password_max_age >= 0),
            must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
            CHECK (login = 0 OR uid IS NOT NULL)
        ) STRICT;
        CREATE TABLE ssh_keys (
            id         INTEGER PRIMARY KEY,
            user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            key        TEXT    NOT NULL CHECK (length(key) BETWEEN 1 AND 16384),
            added_at   INTEGER NOT NULL,
            UNIQUE (user_id, key)
        ) STRICT;
        CREATE INDEX ssh_keys_by_user ON ssh_keys(user_id);
        """

    /// Username and email keys fold ASCII case only (`IdentityRules.canonicalKey`;
    /// SQLite's lower() folds ASCII only): keys made by Unicode lowercasing are
    /// recomputed.  No two rows can collide: names equal ignoring ASCII case
    /// were equal ignoring Unicode case too.
    static let asciiCaseKeys = """
        UPDATE users SET username_key = lower(username), email_key = lower(email)
            WHERE username_key IS NOT lower(username) OR email_key IS NOT lower(email);
        """
}
