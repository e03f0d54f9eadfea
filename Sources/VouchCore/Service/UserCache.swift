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

    /// Users live in a dense array (fast to scan for listing); four
    /// `SlotIndex`es map id, uuid, username key and email key to slots, and
    /// each lookup confirms the key against the entry.  Removal swaps the
    /// last slot in.
    struct Storage {
        var entries: [Entry] = []
        var byID = SlotIndex()
        var byUUID = SlotIndex()
        var byName = SlotIndex()
        var byEmail = SlotIndex()

        /// Every user at once: the indexes are built in one sorted pass each.
        init(users: [User]) {
            entries = users.map(Entry.init)
            let entries = self.entries
            byID = SlotIndex(count: entries.count) { SlotHash.id(entries[$0].user.id) }
            byUUID = SlotIndex(count: entries.count) { SlotHash.of(entries[$0].user.uuid) }
            byName = SlotIndex(count: entries.count) { SlotHash.of(entries[$0].nameKey) }
            byEmail = SlotIndex(count: entries.count) { entries[$0].emailKey.map(SlotHash.of) }
        }

        func slot(_ id: Int64) -> Int? { byID.find(SlotHash.id(id)) { entries[$0].user.id == id } }
        func slot(uuid: UUID) -> Int? { byUUID.find(SlotHash.of(uuid)) { entries[$0].user.uuid == uuid } }
        func slot(nameKey: String) -> Int? { byName.find(SlotHash.of(nameKey)) { entries[$0].nameKey == nameKey } }
        func slot(emailKey: String) -> Int? {
            byEmail.find(SlotHash.of(emailKey)) { entries[$0].emailKey == emailKey }
        }

        mutating func insert(_ entry: Entry) {
            let slot = entries.count
            entries.append(entry)
            byID.insert(SlotHash.id(entry.user.id), slot: slot)
            byUUID.insert(SlotHash.of(entry.user.uuid), slot: slot)
            byName.insert(SlotHash.of(entry.nameKey), slot: slot)
            if let key = entry.emailKey { byEmail.insert(SlotHash.of(key), slot: slot) }
        }

        /// Replaces the entry at `slot` by one with the same id.
        mutating func replace(at slot: Int, with entry: Entry) {
            let old = entries[slot]
            if old.user.uuid != entry.user.uuid {
                byUUID.remove(SlotHash.of(old.user.uuid), slot: slot)
                byUUID.insert(SlotHash.of(entry.user.uuid), slot: slot)
            }
            if old.nameKey != entry.nameKey {
                byName.remove(SlotHash.of(old.nameKey), slot: slot)
                byName.insert(SlotHash.of(entry.nameKey), slot: slot)
            }
            if old.emailKey != entry.emailKey {
                if let key = old.emailKey { byEmail.remove(SlotHash.of(key), slot: slot) }
                if let key = entry.emailKey { byEmail.insert(SlotHash.of(key), slot: slot) }
            }
            entries[slot] = entry
        }

        mutating func remove(at slot: Int) -> User {
            let old = entries[slot]
            byID.remove(SlotHash.id(old.user.id), slot: slot)
            byUUID.remove(SlotHash.of(old.user.uuid), slot: slot)
            byName.remove(SlotHash.of(old.nameKey), slot: slot)
            if let key = old.emailKey { byEmail.remove(SlotHash.of(key), slot: slot) }
            let last = entries.count - 1
            if slot != last {
                let moved = entries[last]
                byID.move(SlotHash.id(moved.user.id), from: last, to: slot)
                byUUID.move(SlotHash.of(moved.user.uuid), from: last, to: slot)
                byName.move(SlotHash.of(moved.nameKey), from: last, to: slot)
                if let key = moved.emailKey { byEmail.move(SlotHash.of(key), from: last, to: slot) }
                entries.swapAt(slot, last)
            }
            entries.removeLast()
            return old.user
        }
    }

    let state: Locked<Storage>

    /// A cache of `users`, whose ids, uuids, usernames and emails must be
    /// distinct (the store's unique constraints see to it).
    public init(users: [User] = []) {
        state = Locked(Storage(users: users))
    }

    /// Replaces the whole content (used when loading from the store); the
    /// users must be distinct, as for `init(users:)`.
    public func replaceAll(_ users: [User]) {
        let storage = Storage(users: users)
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
        state.withLock { s in s.slot(uuid: uuid).map { s.entries[$0].user } }
    }

    /// The user named `username`, ignoring case.
    public func user(named username: String) -> User? {
        user(nameKey: IdentityRules.canonicalKey(username))
    }

    /// The user whose email is `email`, ignoring case.
    public func user(email: String) -> User? {
        let key = IdentityRules.canonicalKey(email)
        return state.withLock { s in s.slot(emailKey: key).map { s.entries[$0].user } }
    }

    private func user(nameKey: String) -> User? {
        state.withLock { s in s.slot(nameKey: nameKey).map { s.entries[$0].user } }
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
