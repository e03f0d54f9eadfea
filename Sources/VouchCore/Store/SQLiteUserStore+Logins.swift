/// Login profiles (`user_logins`, `ssh_keys`) and the uids ever given out
/// (`login_uids`).  A user's deletion removes their profile and keys by
/// `ON DELETE CASCADE`; their uid stays in `login_uids`.
extension SQLiteUserStore {
    public func loadLoginProfiles() throws(AccountError) -> (profiles: [LoginProfile], usedUIDs: Set<UInt32>) {
        try withDatabase("load login profiles") { db throws(StoreError) -> ([LoginProfile], Set<UInt32>) in
            var byUser: [Int64: LoginProfile] = [:]
            let rows = try db.prepare(
                """
                SELECT user_id, login, uid, real_name, home, shell, password_changed_at, password_max_age,
                    must_change_password
                FROM user_logins
                """)
            while try rows.step() {
                var p = LoginProfile(userId: rows.int64(0))
                // A uid out of the range the schema allows (a damaged file) is no uid,
                // and no login: never served as root or as another wrapped id.
                p.uid = rows.optionalInt64(2).flatMap { UInt32(exactly: $0) }.flatMap { $0 >= 1000 ? $0 : nil }
                p.login = rows.int64(1) != 0 && p.uid != nil
                p.realName = rows.string(3) ?? ""
                p.home = rows.string(4)
                p.shell = rows.string(5)
                p.passwordChangedAt = rows.optionalInt64(6)
                p.passwordMaxAge = rows.optionalInt64(7)
                p.mustChangePassword = rows.int64(8) != 0
                byUser[p.userId] = p
            }
            let keys = try db.prepare("SELECT user_id, key FROM ssh_keys ORDER BY id")
            while try keys.step() {
                let id = keys.int64(0)
                byUser[id, default: LoginProfile(userId: id)].sshKeys.append(keys.string(1) ?? "")
            }
            var used = Set<UInt32>()
            let uids = try db.prepare("SELECT uid FROM login_uids")
            while try uids.step() { if let uid = UInt32(exactly: uids.int64(0)) { used.insert(uid) } }
            return (Array(byUser.values), used)
        }
    }

    /// Writes `profile` whole (row and keys) in one transaction; a uid not
    /// yet in `login_uids` is recorded there for good.
    public func saveLoginProfile(_ p: LoginProfile, now: Int64) throws(AccountError) {
        try withDatabase("save login profile") { db throws(StoreError) in
            try db.transaction { () throws(StoreError) in
                if let uid = p.uid {
                    let used = try db.prepare(
                        "INSERT OR IGNORE INTO login_uids (uid, user_id, allocated_at) VALUES (?, ?, ?)")
                    try used.bind(.int(Int64(uid)), .int(p.userId), .int(now))
                    _ = try used.step()
                }
                let row = try db.prepare(
                    """
                    INSERT OR REPLACE INTO user_logins (user_id, login, uid, real_name, home, shell,
                        password_changed_at, password_max_age, must_change_password)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                try row.bind(
                    .int(p.userId), .int(p.login ? 1 : 0), .int(p.uid.map(Int64.init)), .text(p.realName),
                    .text(p.home), .text(p.shell), .int(p.passwordChangedAt), .int(p.passwordMaxAge),
                    .int(p.mustChangePassword ? 1 : 0))
                _ = try row.step()
                let clear = try db.prepare("DELETE FROM ssh_keys WHERE user_id = ?")
                try clear.bind(.int(p.userId))
                _ = try clear.step()
                for key in p.sshKeys {
                    let add = try db.prepare("INSERT INTO ssh_keys (user_id, key, added_at) VALUES (?, ?, ?)")
                    try add.bind(.int(p.userId), .text(key), .int(now))
                    _ = try add.step()
                }
            }
        }
    }
}
