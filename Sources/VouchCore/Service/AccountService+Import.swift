import FoundationEssentials

/// A user as an import brings it: every field but the id, which the store
/// assigns.  The password hash is kept as it is (any format vouch verifies)
/// and upgraded to argon2id at the user's next login.
public struct ImportedUser: Hashable, Sendable {
    public var uuid: UUID?
    public var username: String
    public var email: String?
    public var passwordHash: String
    public var flags: UserFlags
    public var createdAt: Int64?
    public var updatedAt: Int64?
    public var lastLogin: Int64?
    public var failedLogins: UInt32
    public var lockedUntil: Int64?

    public init(
        uuid: UUID? = nil, username: String, email: String? = nil, passwordHash: String,
        flags: UserFlags = .active, createdAt: Int64? = nil, updatedAt: Int64? = nil,
        lastLogin: Int64? = nil, failedLogins: UInt32 = 0, lockedUntil: Int64? = nil
    ) {
        self.uuid = uuid
        self.username = username
        self.email = email
        self.passwordHash = passwordHash
        self.flags = flags
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.lastLogin = lastLogin
        self.failedLogins = failedLogins
        self.lockedUntil = lockedUntil
    }
}

/// What an import does with a user whose username (or uuid) already exists.
public enum ImportConflictPolicy: UInt8, Sendable, CaseIterable {
    /// Leave the existing user alone.
    case skip = 0
    /// Replace the existing user's email, hash, flags and times (id and uuid stay).
    case update = 1
    /// Import nothing at all.
    case fail = 2
}

/// A record that cannot be imported: its index in the import (from 0) and why.
public struct ImportProblem: Hashable, Sendable {
    public var index: Int
    public var code: AccountError.Code
    public var reason: String
    public init(index: Int, code: AccountError.Code, reason: String) {
        self.index = index
        self.code = code
        self.reason = reason
    }
}

/// The outcome of an import.  `written` is false when there were problems
/// (then nothing was written) or for a dry run; the counts then say what
/// would have happened.
public struct ImportOutcome: Hashable, Sendable {
    public var created = 0
    public var updated = 0
    public var skipped = 0
    public var problems: [ImportProblem] = []
    public var written = false
    public init() {}
}

extension AccountService {
    // MARK: - Export

    /// Up to `limit` users (1...1000) with an id above `afterID`, by id,
    /// password hashes included: for `vouchctl user export` only.
    public func exportUsers(afterID: Int64, limit: Int) throws(AccountError) -> [User] {
        guard (1...1000).contains(limit) else {
            throw AccountError.invalidInput("The limit must be between 1 and 1000.")
        }
        return cache.users(afterID: afterID, limit: limit)
    }

    // MARK: - Import

    /// Imports `records` in one transaction: all of them or none.
    ///
    /// Nothing is written when any record is invalid (username, email or
    /// hash format), repeats a username, email or uuid of an earlier record,
    /// would take another user's email or uuid, or conflicts with an
    /// existing user under `.fail`.  Every such record is reported.
    public func importUsers(_ records: [ImportedUser], onConflict: ImportConflictPolicy, dryRun: Bool)
        throws(AccountError) -> ImportOutcome
    {
        var outcome = ImportOutcome()
        func problem(_ index: Int, _ code: AccountError.Code, _ reason: String) {
            outcome.problems.append(ImportProblem(index: index, code: code, reason: reason))
        }
        // Stateless checks first, outside the write lock.
        var valid = [Bool](repeating: true, count: records.count)
        var firstByName: [String: Int] = [:]
        var firstByEmail: [String: Int] = [:]
        var firstByUUID: [UUID: Int] = [:]
        for (i, r) in records.enumerated() {
            var reason: (AccountError.Code, String)?
            if let p = IdentityRules.usernameProblem(r.username) {
                reason = (.invalidInput, p)
            } else if let email = r.email, let p = IdentityRules.emailProblem(email) {
                reason = (.invalidInput, p)
            } else if !PasswordHasher.isStorableHash(r.passwordHash) {
                reason = (.invalidInput, "The password hash is not in a format vouch verifies.")
            } else if let k = firstByName[IdentityRules.canonicalKey(r.username)] {
                reason = (.usernameTaken, "The username \(r.username) repeats record \(k + 1).")
            } else if let email = r.email, let k = firstByEmail[IdentityRules.canonicalKey(email)] {
                reason = (.emailTaken, "The email repeats record \(k + 1).")
            } else if let uuid = r.uuid, let k = firstByUUID[uuid] {
                reason = (.invalidInput, "The uuid repeats record \(k + 1).")
            }
            if let (code, text) = reason {
                problem(i, code, text)
                valid[i] = false
                continue
            }
            firstByName[IdentityRules.canonicalKey(r.username)] = i
            if let email = r.email { firstByEmail[IdentityRules.canonicalKey(email)] = i }
            if let uuid = r.uuid { firstByUUID[uuid] = i }
        }
        let now = clock.nowMillis()
        return try writeLock.withLock { _ throws(AccountError) -> ImportOutcome in
            var inserts: [User] = []
            var updates: [User] = []
            for (i, r) in records.enumerated() where valid[i] {
                let existing = cache.user(named: r.username)
                if let uuid = r.uuid, let owner = cache.user(uuid: uuid), owner.id != existing?.id {
                    problem(i, .invalidInput, "The uuid belongs to another user (\(owner.username)).")
                    continue
                }
                if let email = r.email, let owner = cache.user(email: email), owner.id != existing?.id {
                    problem(i, .emailTaken, "The email belongs to another user (\(owner.username)).")
                    continue
                }
                if let existing {
                    switch onConflict {
                    case .skip:
                        outcome.skipped += 1
                    case .fail:
                        problem(i, .usernameTaken, "A user named \(existing.username) already exists.")
                    case .update:
                        var user = existing
                        user.email = r.email
                        user.passwordHash = r.passwordHash
                        user.flags = r.flags
                        user.createdAt = r.createdAt ?? existing.createdAt
                        user.updatedAt = r.updatedAt ?? now
                        user.lastLogin = r.lastLogin ?? existing.lastLogin
                        user.failedLogins = r.failedLogins
                        user.lockedUntil = r.lockedUntil
                        updates.append(user)
                    }
                    continue
                }
                let created = r.createdAt ?? now
                inserts.append(
                    User(
                        id: 0, uuid: r.uuid ?? UUID(), username: r.username, email: r.email,
                        passwordHash: r.passwordHash, flags: r.flags, createdAt: created,
                        updatedAt: r.updatedAt ?? created, lastLogin: r.lastLogin,
                        failedLogins: r.failedLogins, lockedUntil: r.lockedUntil))
            }
            outcome.problems.sort { $0.index < $1.index }
            outcome.created = inserts.count
            outcome.updated = updates.count
            guard outcome.problems.isEmpty, !dryRun else { return outcome }
            guard !(inserts.isEmpty && updates.isEmpty) else {
                outcome.written = true
                return outcome
            }
            let inserted = try store.importUsers(inserts: inserts, updates: updates)
            for user in inserted { cache.upsert(user) }
            for user in updates { cache.upsert(user) }
            outcome.written = true
            logger.info(
                "imported users",
                metadata: [
                    "created": "\(outcome.created)", "updated": "\(outcome.updated)",
                    "skipped": "\(outcome.skipped)",
                ])
            return outcome
        }
    }
}

extension UserCache {
    /// Up to `limit` users with an id above `afterID`, by id.
    func users(afterID: Int64, limit: Int) -> [User] {
        state.withLock { s in
            var found = s.entries.compactMap { $0.user.id > afterID ? $0.user : nil }
            found.sort { $0.id < $1.id }
            return Array(found.prefix(limit))
        }
    }
}
