/// Operations on the data as a whole: online backups (a snapshot held in
/// memory and read in chunks), export and staged imports.  Thread-safe;
/// every method is synchronous.
public final class DataService: Sendable {
    let accounts: AccountService
    let store: SQLiteUserStore
    let clock: any VouchClock
    let backups: SessionTable<[UInt8]>
    let imports: SessionTable<StagedImport>

    /// Records one import may stage at most.
    public static let maxImportRecords = 1_000_000
    /// Largest chunk a `readBackup` returns.
    public static let maxChunkBytes = 65536

    struct StagedImport: Sendable {
        var policy: ImportConflictPolicy
        var dryRun: Bool
        var records: [ImportedUser] = []
    }

    public init(accounts: AccountService, store: SQLiteUserStore, clock: any VouchClock = SystemClock()) {
        self.accounts = accounts
        self.store = store
        self.clock = clock
        backups = SessionTable(what: "backup", capacity: 2, idleMillis: 120_000, clock: clock)
        imports = SessionTable(what: "import", capacity: 4, idleMillis: 600_000, clock: clock)
    }

    // MARK: - Backup

    /// Takes a consistent snapshot; returns its id, size in bytes and the number of users in it.
    /// `owner` (the connection) releases it with `release(owner:)` when it goes.
    public func beginBackup(owner: ObjectIdentifier? = nil) throws(AccountError) -> (
        id: UInt32, size: Int64, users: Int
    ) {
        // Under the accounts' write lock no write is half done.  (Failed-login counts the
        // database could not take are held in memory only: a backup does not carry them.)
        let (bytes, users) = try accounts.writeLock.withLock { _ throws(AccountError) -> ([UInt8], Int) in
            (try store.snapshot(), accounts.userCount)
        }
        let id = try backups.open(bytes, owner: owner)
        return (id, Int64(bytes.count), users)
    }

    public func readBackup(id: UInt32, offset: Int64, maxBytes: Int) throws(AccountError) -> [UInt8] {
        guard (1...Self.maxChunkBytes).contains(maxBytes) else {
            throw AccountError.invalidInput("max_bytes must be between 1 and \(Self.maxChunkBytes).")
        }
        return try backups.with(id) { bytes throws(AccountError) -> [UInt8] in
            guard offset >= 0, offset <= Int64(bytes.count) else {
                throw AccountError.invalidInput("The offset is outside the backup.")
            }
            let start = Int(offset)
            return Array(bytes[start..<min(bytes.count, start + maxBytes)])
        }
    }

    public func endBackup(id: UInt32) throws(AccountError) {
        guard backups.close(id) != nil else { throw SessionTable<[UInt8]>.unknown("backup", id) }
    }

    // MARK: - Import

    public func beginImport(policy: ImportConflictPolicy, dryRun: Bool, owner: ObjectIdentifier? = nil)
        throws(AccountError) -> UInt32
    {
        try imports.open(StagedImport(policy: policy, dryRun: dryRun), owner: owner)
    }

    /// Forgets the backups and imports `owner` began (its connection went):
    /// an abandoned backup must not hold a snapshot slot until it idles out.
    /// Returns how many were dropped.
    @discardableResult
    public func release(owner: ObjectIdentifier) -> Int {
        backups.release(owner: owner) + imports.release(owner: owner)
    }

    /// Stages records; returns how many are staged so far.
    public func addToImport(id: UInt32, _ records: [ImportedUser]) throws(AccountError) -> Int {
        try imports.with(id) { staged throws(AccountError) -> Int in
            guard staged.records.count + records.count <= Self.maxImportRecords else {
                throw AccountError.invalidInput("An import holds at most \(Self.maxImportRecords) users.")
            }
            staged.records += records
            return staged.records.count
        }
    }

    /// Checks and writes the staged import (one transaction), and forgets it.
    public func commitImport(id: UInt32) throws(AccountError) -> ImportOutcome {
        guard let staged = imports.close(id) else { throw SessionTable<StagedImport>.unknown("import", id) }
        return try accounts.importUsers(staged.records, onConflict: staged.policy, dryRun: staged.dryRun)
    }
}

/// Values kept between the requests of a multi-request operation, by id.
/// At most `capacity` at once; one unused for `idleMillis` is dropped.
final class SessionTable<Value: Sendable>: Sendable {
    struct Entry {
        var value: Value
        var lastUsed: Int64
        /// The connection that opened it, if any.
        var owner: ObjectIdentifier?
    }
    struct State {
        var nextID: UInt32 = 1
        var entries: [UInt32: Entry] = [:]
    }

    let what: String
    let capacity: Int
    let idleMillis: Int64
    let clock: any VouchClock
    let state = Locked(State())

    init(what: String, capacity: Int, idleMillis: Int64, clock: any VouchClock) {
        self.what = what
        self.capacity = capacity
        self.idleMillis = idleMillis
        self.clock = clock
    }

    static func unknown(_ what: String, _ id: UInt32) -> AccountError {
        AccountError.invalidInput("No \(what) \(id) (unknown, finished or idle for too long).")
    }

    func open(_ value: sending Value, owner: ObjectIdentifier? = nil) throws(AccountError) -> UInt32 {
        let now = clock.nowMillis()
        return try state.withLock { s throws(AccountError) -> UInt32 in
            s.entries = s.entries.filter { now - $0.value.lastUsed < idleMillis }
            guard s.entries.count < capacity else {
                throw AccountError(.busy, "Too many \(what)s in progress (at most \(capacity)); try again later")
            }
            let id = s.nextID
            s.nextID = s.nextID == UInt32.max ? 1 : s.nextID + 1
            s.entries[id] = Entry(value: value, lastUsed: now, owner: owner)
            return id
        }
    }

    func with<R: Sendable>(_ id: UInt32, _ body: (inout Value) throws(AccountError) -> R) throws(AccountError) -> R {
        let now = clock.nowMillis()
        return try state.withLock { s throws(AccountError) -> R in
            guard var entry = s.entries[id], now - entry.lastUsed < idleMillis else {
                s.entries[id] = nil
                throw Self.unknown(what, id)
            }
            s.entries[id] = nil
            defer { s.entries[id] = entry }
            entry.lastUsed = now
            return try body(&entry.value)
        }
    }

    func release(owner: ObjectIdentifier) -> Int {
        state.withLock { s -> Int in
            let before = s.entries.count
            s.entries = s.entries.filter { $0.value.owner != owner }
            return before - s.entries.count
        }
    }

    func close(_ id: UInt32) -> Value? {
        let now = clock.nowMillis()
        return state.withLock { s -> Value? in
            guard let entry = s.entries.removeValue(forKey: id), now - entry.lastUsed < idleMillis else { return nil }
            return entry.value
        }
    }
}
