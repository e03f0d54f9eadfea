/// ``TokenStore`` on the user database's connection (tokens reference users,
/// and a user's deletion removes their tokens by `ON DELETE CASCADE`).
extension SQLiteUserStore: TokenStore {
    public func loadTokens(
        now: Int64, reserve: (Int) -> Void, each: (TokenRecord) -> Void
    ) throws(AccountError) {
        try withDatabase("load tokens") { db throws(StoreError) in
            let stmt = try db.prepare(
                """
                SELECT id, digest, purpose, user_id, label, fingerprint, created_at, expires_at, last_used
                FROM tokens WHERE expires_at > ? ORDER BY id
                """)
            try stmt.bind(now, at: 1)
            reserve(Int(try db.scalarInt("SELECT count(*) FROM tokens") ?? 0))
            while try stmt.step() {
                guard let digest = stmt.withBlob(1, { TokenDigest(raw: $0) }),
                    let purpose = TokenPurpose(rawValue: stmt.int64(2))
                else { continue }
                each(
                    TokenRecord(
                        id: stmt.int64(0), digest: digest, purpose: purpose, userId: stmt.int64(3),
                        label: stmt.string(4) ?? "", fingerprint: stmt.blob(5), createdAt: stmt.int64(6),
                        expiresAt: stmt.int64(7), lastUsed: stmt.optionalInt64(8)))
            }
        }
    }

    public func insertToken(_ record: TokenRecord) throws(AccountError) -> TokenRecord {
        try withDatabase("insert token") { db throws(StoreError) -> TokenRecord in
            try db.transaction { () throws(StoreError) -> TokenRecord in try Self.insertToken(record, into: db) }
        }
    }

    /// Inserts `record` inside the caller's transaction.
    static func insertToken(_ record: TokenRecord, into db: SQLiteDatabase) throws(StoreError) -> TokenRecord {
        let stmt = try db.prepare(
            """
            INSERT INTO tokens (digest, purpose, user_id, label, fingerprint, created_at, expires_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        try stmt.bind(
            .blob(record.digest.bytes), .int(record.purpose.rawValue), .int(record.userId), .text(record.label),
            .blob(record.fingerprint), .int(record.createdAt), .int(record.expiresAt))
        _ = try stmt.step()
        var stored = record
        stored.id = db.lastInsertRowID
        return stored
    }

    public func deleteToken(id: Int64) throws(AccountError) -> Bool {
        try withDatabase("delete token") { db throws(StoreError) -> Bool in
            try db.transaction { () throws(StoreError) -> Bool in
                let stmt = try db.prepare("DELETE FROM tokens WHERE id = ?")
                try stmt.bind(id, at: 1)
                _ = try stmt.step()
                return db.changes > 0
            }
        }
    }

    public func deleteTokens(userId: Int64, purpose: TokenPurpose?) throws(AccountError) -> Int {
        try withDatabase("delete user tokens") { db throws(StoreError) -> Int in
            try db.transaction { () throws(StoreError) -> Int in
                let stmt: SQLiteStatement
                if let purpose {
                    stmt = try db.prepare("DELETE FROM tokens WHERE user_id = ? AND purpose = ?")
                    try stmt.bind(.int(userId), .int(purpose.rawValue))
                } else {
                    stmt = try db.prepare("DELETE FROM tokens WHERE user_id = ?")
                    try stmt.bind(.int(userId))
                }
                _ = try stmt.step()
                return db.changes
            }
        }
    }

    public func deleteExpiredTokens(now: Int64) throws(AccountError) -> Int {
        try withDatabase("purge tokens") { db throws(StoreError) -> Int in
            try db.transaction { () throws(StoreError) -> Int in
                let stmt = try db.prepare("DELETE FROM tokens WHERE expires_at <= ?")
                try stmt.bind(now, at: 1)
                _ = try stmt.step()
                return db.changes
            }
        }
    }

    public func updateTokenUsage(_ usage: [(id: Int64, lastUsed: Int64?, expiresAt: Int64)]) throws(AccountError) {
        guard !usage.isEmpty else { return }
        let rows = usage.map { ($0.id, $0.lastUsed, $0.expiresAt) }
        try withDatabase("record token use") { db throws(StoreError) in
            try db.transaction { () throws(StoreError) in
                let stmt = try db.prepare(
                    "UPDATE tokens SET last_used = ?, expires_at = max(expires_at, ?) WHERE id = ?")
                for (id, lastUsed, expiresAt) in rows {
                    try stmt.bind(.int(lastUsed), .int(expiresAt), .int(id))
                    _ = try stmt.step()
                    stmt.reset()
                }
            }
        }
    }
}
