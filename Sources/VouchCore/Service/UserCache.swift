import FoundationEssentials

/// Every user in memory, indexed by id, uuid, username key and email key.
///
/// Thread-safe; each call holds the lock briefly and never does I/O.
/// Callers change it only after the durable store has committed.
public final class UserCache: Sendable {
    struct Entry {
        var user: User
        var nameKey: String
        var emailKey: String?

        init(_ user: User) {
            self.user = user
            self.nameKey = Self.key(user.username)
            self.emailKey = user.email.map(Self.key)
        }

        /// The canonical key, sharing the original's storage when it is
        /// already canonical (the common case: a lowercase email), so the
        /// cache keeps one heap string instead of two equal ones.
        static func key(_ s: String) -> String {
            // ASCII without capitals is its own lowercase: no copy, no compare.
            if s.utf8.allSatisfy({ $0 < 0x80 && !($0 >= 0x41 && $0 <= 0x5A) }) { return s }
            let key = IdentityRules.canonicalKey(s)
            return key == s ? s : key
        }
    }

    /// Users live in a dense array (fast to scan for listing); the indexes
    /// map to ids and ids to slots.  Removal swaps the last slot in.
    struct Storage {
        var entries: [Entry] = []
        var slotByID: [Int64: Int] = [:]
        var idByUUID: [UUID: Int64] = [:]
        var idByNameKey: [String: Int64] = [:]
        var idByEmailKey: [String: Int64] = [:]

        func slot(_ id: Int64) -> Int? { slotByID[id] }

        mutating func insert(_ entry: Entry) {
            slotByID[entry.user.id] = entries.count
            idByUUID[entry.user.uuid] = entry.user.id
            idByNameKey[entry.nameKey] = entry.user.id
            if let key = entry.emailKey { idByEmailKey[key] = entry.user.id }
            entries.append(entry)
        }

        mutating func replace(at slot: Int, with entry: Entry) {
            let old = entries[slot]
            if old.user.uuid != entry.user.uuid {
                idByUUID[old.user.uuid] = nil
                idByUUID[entry.user.uuid] = entry.user.id
            }
            if old.nameKey != entry.nameKey {
                idByNameKey[old.nameKey] = nil
                idByNameKey[entry.nameKey] = entry.user.id
            }
            if old.emailKey != entry.emailKey {
                if let key = old.emailKey { idByEmailKey[key] = nil }
                if let key = entry.emailKey { idByEmailKey[key] = entry.user.id }
            }
            entries[slot] = entry
        }

        mutating func remove(at slot: Int) -> User {
            let old = entries[slot]
            slotByID[old.user.id] = nil
            idByUUID[old.user.uuid] = nil
            idByNameKey[old.nameKey] = nil
            if let key = old.emailKey { idByEmailKey[key] = nil }
            let last = entries.count - 1
            if slot != last {
                entries.swapAt(slot, last)
                slotByID[entries[slot].user.id] = slot
            }
            entries.removeLast()
            return old.user
        }
    }

    let state: Locked<Storage>

    public init(users: [User] = []) {
        var storage = Storage()
        storage.entries.reserveCapacity(users.count)
        for user in users { storage.insert(Entry(user)) }
        state = Locked(storage)
    }

    /// Replaces the whole content (used when loading from the store).
    public func replaceAll(_ users: [User]) {
        var storage = Storage()
        storage.entries.reserveCapacity(users.count)
        storage.slotByID.reserveCapacity(users.count)
        storage.idByUUID.reserveCapacity(users.count)
        storage.idByNameKey.reserveCapacity(users.count)
        storage.idByEmailKey.reserveCapacity(users.count)
        for user in users { storage.insert(Entry(user)) }
        state.withLock { $0 = storage }
    }

    public var count: Int { state.withLock { $0.entries.count } }

    /// Inserts `user`, or replaces the user with the same id (re-indexing
    /// a changed username, email or uuid).
    public func upsert(_ user: User) {
        let entry = Entry(user)  // keys computed outside the lock
        state.withLock { s in
            if let slot = s.slot(user.id) {
                s.replace(at: slot, with: entry)
            } else {
                s.insert(entry)
            }
        }
    }

    /// Removes and returns the user with `id`.
    @discardableResult
    public func remove(id: Int64) -> User? {
        state.withLock { s in s.slot(id).map { s.remove(at: $0) } }
    }

    public func user(id: Int64) -> User? {
        state.withLock { s in s.slot(id).map { s.entries[$0].user } }
    }

    public func user(uuid: UUID) -> User? {
        state.withLock { s in
            s.idByUUID[uuid].flatMap { s.slot($0) }.map { s.entries[$0].user }
        }
    }

    /// The user named `username`, ignoring case.
    public func user(named username: String) -> User? {
        user(nameKey: IdentityRules.canonicalKey(username))
    }

    /// The user whose email is `email`, ignoring case.
    public func user(email: String) -> User? {
        let key = IdentityRules.canonicalKey(email)
        return state.withLock { s in
            s.idByEmailKey[key].flatMap { s.slot($0) }.map { s.entries[$0].user }
        }
    }

    private func user(nameKey: String) -> User? {
        state.withLock { s in
            s.idByNameKey[nameKey].flatMap { s.slot($0) }.map { s.entries[$0].user }
        }
    }

    /// Resolves a reference: `.name` ignores case; `.any` tries a username,
    /// then a numeric id, then a uuid.
    public func user(_ ref: UserRef) -> User? {
        switch ref {
        case .id(let id): return user(id: id)
        case .uuid(let uuid): return user(uuid: uuid)
        case .name(let name): return user(named: name)
        case .any(let text):
            if let found = user(named: text) { return found }
            if let id = Int64(text), let found = user(id: id) { return found }
            if let uuid = UUID(uuidString: text) { return user(uuid: uuid) }
            return nil
        }
    }
}
