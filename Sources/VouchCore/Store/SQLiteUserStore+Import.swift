extension SQLiteUserStore {
    public func importUsers(inserts: [User], updates: [User]) throws(AccountError) -> [User] {
        try withDatabase("import users") { db throws(StoreError) -> [User] in
            try db.transaction { () throws(StoreError) -> [User] in
                let insert = try db.prepare(
                    """
                    INSERT INTO users (uuid, username, username_key, email, email_key, password_hash,
                        flags, created_at, updated_at, last_login, failed_logins, locked_until)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                var inserted: [User] = []
                inserted.reserveCapacity(inserts.count)
                for user in inserts {
                    insert.reset()
                    try insert.bind(
                        .blob(Self.bytes(user.uuid)), .text(user.username),
                        .text(IdentityRules.canonicalKey(user.username)), .text(user.email),
                        .text(user.email.map(IdentityRules.canonicalKey)), .text(user.passwordHash),
                        .int(Int64(user.flags.rawValue)), .int(user.createdAt), .int(user.updatedAt),
                        .int(user.lastLogin), .int(Int64(user.failedLogins)), .int(user.lockedUntil))
                    try insert.step()
                    var stored = user
                    stored.id = db.lastInsertRowID
                    inserted.append(stored)
                }
                let update = try db.prepare(
                    """
                    UPDATE users SET username = ?, username_key = ?, email = ?, email_key = ?,
                        password_hash = ?, flags = ?, created_at = ?, updated_at = ?, last_login = ?,
                        failed_logins = ?, locked_until = ?
                    WHERE id = ?
                    """)
                for user in updates {
                    update.reset()
                    try update.bind(
                        .text(user.username), .text(IdentityRules.canonicalKey(user.username)),
                        .text(user.email), .text(user.email.map(IdentityRules.canonicalKey)),
                        .text(user.passwordHash), .int(Int64(user.flags.rawValue)), .int(user.createdAt),
                        .int(user.updatedAt), .int(user.lastLogin), .int(Int64(user.failedLogins)),
                        .int(user.lockedUntil), .int(user.id))
                    try update.step()
                    guard db.changes == 1 else {
                        throw StoreError(.other, message: "import: user #\(user.id) vanished")
                    }
                }
                return inserted
            }
        }
    }

    /// A consistent copy of the database file's bytes (see ``SQLiteDatabase/snapshot()``).
    public func snapshot() throws(AccountError) -> [UInt8] {
        try withDatabase("backup") { db throws(StoreError) -> [UInt8] in try db.snapshot() }
    }
}
