import CSQLite

extension SQLiteDatabase {
    /// A consistent copy of the whole database as the bytes of a SQLite
    /// file, made with SQLite's online backup API into a private in-memory
    /// database (a read transaction: writers of other processes are not
    /// blocked).  The copy is in rollback-journal mode, ready to be opened
    /// on its own.
    public func snapshot() throws(StoreError) -> [UInt8] {
        let source = try connection()
        var memory: OpaquePointer?
        var rc = sqlite3_open_v2(
            ":memory:", &memory, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let memory else {
            sqlite3_close_v2(memory)
            throw StoreError(.other, sqliteCode: rc, message: "backup of \(path): cannot open a memory database")
        }
        defer { sqlite3_close_v2(memory) }
        guard let backup = sqlite3_backup_init(memory, "main", source, "main") else {
            throw error(sqlite3_extended_errcode(memory), "backup")
        }
        // One step copies every page inside one read transaction: a consistent snapshot.
        rc = sqlite3_backup_step(backup, -1)
        let finish = sqlite3_backup_finish(backup)
        guard rc == SQLITE_DONE, finish == SQLITE_OK else {
            throw error(rc == SQLITE_DONE ? finish : rc, "backup")
        }
        // A copy taken from a WAL database says "WAL" in its header; a lone
        // file is easier to handle in rollback mode.
        sqlite3_exec(memory, "PRAGMA journal_mode=DELETE", nil, nil, nil)
        var size: sqlite3_int64 = 0
        guard let bytes = sqlite3_serialize(memory, "main", &size, 0) else {
            throw StoreError(.other, message: "backup of \(path): cannot serialize the copy")
        }
        defer { sqlite3_free(bytes) }
        var out = Array(UnsafeRawBufferPointer(start: bytes, count: Int(size)))
        // Header bytes 18 and 19 (file format write/read version): 1 = rollback journal.
        if out.count >= 100, out[18] == 2 || out[19] == 2 {
            out[18] = 1
            out[19] = 1
        }
        return out
    }
}
