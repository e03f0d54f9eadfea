import FoundationEssentials

/// Bulk loading (benchmark data, imports): many rows per `BEGIN IMMEDIATE`
/// transaction with one prepared statement, instead of one transaction per
/// row.  Not used by the daemon; rows are written as `insert` and
/// `insertToken` would write them.
extension SQLiteUserStore {
    /// Inserts `count` users made by `row(i)` for i in 0..<count, `batchSize` per transaction.
    /// Returns the id of the last user inserted (ids are consecutive on a fresh table).
    @discardableResult
    public func bulkInsertUsers(count: Int, batchSize: Int = 10_000, row: (Int) -> NewUserRow) throws(AccountError)
        -> Int64
    {
        var next = 0
        var lastID: Int64 = 0
        while next < count {
            let end = min(count, next + batchSize)
            lastID = try withDatabase("bulk insert users") { db throws(StoreError) -> Int64 in
                try db.transaction { () throws(StoreError) -> Int64 in
                    let stmt = try db.prepare(
                        """
                        INSERT INTO users (uuid, username, username_key, email, email_key,
                            password_hash, flags, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """)
                    for i in next..<end {
                        let r = row(i)
                        stmt.reset()
                        try stmt.bind(
                            .blob(Self.bytes(r.uuid)), .text(r.username),
                            .text(IdentityRules.canonicalKey(r.username)), .text(r.email),
                            .text(r.email.map(IdentityRules.canonicalKey)), .text(r.passwordHash),
                            .int(Int64(r.flags.rawValue)), .int(r.createdAt), .int(r.createdAt))
                        try stmt.step()
                    }
                    return db.lastInsertRowID
                }
            }
            next = end
        }
        return lastID
    }

    /// Inserts `count` tokens made by `record(i)` (their `id` is ignored), `batchSize` per transaction.
    public func bulkInsertTokens(count: Int, batchSize: Int = 10_000, record: (Int) -> TokenRecord)
        throws(AccountError)
    {
        var next = 0
        while next < count {
            let end = min(count, next + batchSize)
            try withDatabase("bulk insert tokens") { db throws(StoreError) in
                try db.transaction { () throws(StoreError) in
                    let stmt = try db.prepare(
                        """
                        INSERT INTO tokens (digest, purpose, user_id, label, fingerprint, created_at, expires_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """)
                    for i in next..<end {
                        let r = record(i)
                        stmt.reset()
                        try stmt.bind(
                            .blob(r.digest.bytes), .int(r.purpose.rawValue), .int(r.userId), .text(r.label),
                            .blob(r.fingerprint), .int(r.createdAt), .int(r.expiresAt))
                        try stmt.step()
                    }
                }
            }
            next = end
        }
    }
}
