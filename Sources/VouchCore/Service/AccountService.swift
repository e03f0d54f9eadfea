import Dispatch
import FoundationEssentials
import Logging
import VouchSecrets

/// The account operations of vouchd: users in memory, written through to a
/// durable ``UserStore`` before the cache changes and before answering.
///
/// Every method is synchronous, blocking and thread-safe.  The hashing ones
/// (`createUser`, `login`, `changePassword`, `setPassword`) take tens of
/// milliseconds: call them from a worker thread, never an event loop.
/// Hashing never holds a lock; writers are serialised by `writeLock` around
/// the store write and the cache update only, and lookups never touch the store.
public final class AccountService: Sendable {
    let store: any UserStore
    /// Hashing cost and policy: replaced as a whole on reload (SIGHUP).
    private let settings: Locked<(hasher: PasswordHasher, policy: PasswordPolicy)>
    var hasher: PasswordHasher { settings.withLock { $0.hasher } }
    var policy: PasswordPolicy { settings.withLock { $0.policy } }
    let clock: any VouchClock
    let logger: Logger
    let cache = UserCache()
    /// Serialises read-modify-write of a user: store write, then cache update.
    let writeLock = Locked(())
    /// When failed logins lock an account; replaced on reload (see `AccountService+Lockout`).
    let lockoutPolicy: Locked<LockoutPolicy>
    /// Password checks in progress per user id, counted towards a lockout so
    /// concurrent guesses cannot outrun it.
    let attemptsInProgress = Locked<[Int64: Int]>([:])

    /// Largest login inputs accepted before answering "invalid credentials"
    /// without looking anything up.
    static let maxPasswordBytes = 512

    public init(
        store: any UserStore, hasher: PasswordHasher, policy: PasswordPolicy,
        clock: any VouchClock = SystemClock(), logger: Logger, lockout: LockoutPolicy = LockoutPolicy()
    ) {
        self.lockoutPolicy = Locked(lockout)
        self.store = store
        self.settings = Locked((hasher, policy))
        self.clock = clock
        self.logger = logger
    }

    /// Loads every user from the store into memory.
    /// Loads every user into the cache.
    ///
    /// `alongside` (loading tokens, say: it needs the database but not this
    /// cache) runs on another thread from the moment the users have been
    /// read until the cache is built, so start-up uses two cores; its error,
    /// if any, is thrown after the cache is built.
    public func load(alongside: (@Sendable () throws -> Void)? = nil) throws {
        let started = ContinuousClock.now
        let users = try store.loadAllUsers()
        let read = ContinuousClock.now
        let other = alongside.map(BackgroundJob.init)
        cache.replaceAll(users)
        logger.info(
            "loaded users",
            metadata: [
                "count": "\(users.count)", "read_ms": "\((read - started).milliseconds)",
                "index_ms": "\((ContinuousClock.now - read).milliseconds)",
            ])
        try other?.wait()
    }

    public var userCount: Int { cache.count }

    /// Applies a new hashing cost and password policy (a config reload).
    /// Stored hashes made with another cost are rehashed at their next login.
    public func reconfigure(hasher: PasswordHasher, policy: PasswordPolicy) {
        settings.withLock { $0 = (hasher, policy) }
    }

    // MARK: - Lookups (memory only)

    /// A user from memory, or nil: no error, no database.
    public func user(id: Int64) -> User? { cache.user(id: id) }
    public func user(named username: String) -> User? { cache.user(named: username) }
    public func user(email: String) -> User? { cache.user(email: email) }

    public func user(_ ref: UserRef) throws(AccountError) -> User {
        guard let user = cache.user(ref) else { throw AccountError.notFound(ref) }
        return user
    }

    /// `limit` 1...1000, `page` from 1.
    public func listUsers(limit: Int, page: Int, order: UserOrder, descending: Bool)
        throws(AccountError) -> (total: Int, users: [User])
    {
        guard (1...1000).contains(limit) else {
            throw AccountError.invalidInput("The limit must be between 1 and 1000.")
        }
        guard page >= 1 else { throw AccountError.invalidInput("The page must be at least 1.") }
        return cache.page(limit: limit, page: page, order: order, descending: descending)
    }

    // MARK: - Create

    public func createUser(
        username: String, email: String?, password: SecretBytes, flags: UserFlags
    ) throws(AccountError) -> User {
        if let problem = IdentityRules.usernameProblem(username) {
            throw AccountError.invalidInput(problem)
        }
        if let email, let problem = IdentityRules.emailProblem(email) {
            throw AccountError.invalidInput(problem)
        }
        if let problem = policy.problem(with: password, username: username, email: email) {
            throw AccountError.passwordRejected(problem)
        }
        // Fail early, before the costly hash; checked again under the write lock.
        try checkUnique(username: username, email: email, excluding: nil)
        let hash = try hasher.hash(password)
        let row = NewUserRow(
            uuid: UUID(), username: username, email: email, passwordHash: hash, flags: flags,
            createdAt: clock.nowMillis())
        let user = try writeLock.withLock { _ throws(AccountError) -> User in
            try checkUnique(username: username, email: email, excluding: nil)
            let user = try store.insert(row)
            cache.upsert(user)
            return user
        }
        logger.debug("created user", metadata: ["user": "\(user.username)", "id": "\(user.id)"])
        return user
    }

    func checkUnique(username: String?, email: String?, excluding id: Int64?) throws(AccountError) {
        if let username, let other = cache.user(named: username), other.id != id {
            throw AccountError(.usernameTaken)
        }
        if let email, let other = cache.user(email: email), other.id != id {
            throw AccountError(.emailTaken)
        }
    }

    // MARK: - Update and delete

    /// `email`: nil leaves it, `.some(nil)` clears it.  For each flag in
    /// `setFlags`, sets it to whether `flagValues` contains it.  A changed
    /// email address clears `verified` unless `setFlags` has `.verified`.
    /// Returns the names of the changed fields; no change, no write.
    public func updateUser(
        _ ref: UserRef, email: String??, setFlags: UserFlags, flagValues: UserFlags
    ) throws(AccountError) -> (user: User, changed: [String]) {
        if case .some(.some(let newEmail)) = email,
            let problem = IdentityRules.emailProblem(newEmail)
        {
            throw AccountError.invalidInput(problem)
        }
        return try writeLock.withLock { _ throws(AccountError) -> (user: User, changed: [String]) in
            let old = try user(ref)
            var new = old
            var changed: [String] = []
            if case .some(let newEmail) = email, newEmail != old.email {
                try checkUnique(username: nil, email: newEmail, excluding: old.id)
                new.email = newEmail
                changed.append("email")
                let oldKey = old.email.map(IdentityRules.canonicalKey)
                let newKey = newEmail.map(IdentityRules.canonicalKey)
                if oldKey != newKey && !setFlags.contains(.verified) {
                    new.flags.remove(.verified)
                }
            }
            for flag in [UserFlags.active, .admin, .superuser, .verified]
            where setFlags.contains(flag) {
                if flagValues.contains(flag) {
                    new.flags.insert(flag)
                } else {
                    new.flags.remove(flag)
                }
            }
            for (flag, name) in Self.flagNames
            where old.flags.contains(flag) != new.flags.contains(flag) {
                changed.append(name)
            }
            guard !changed.isEmpty else { return (old, []) }
            new.updatedAt = clock.nowMillis()
            try store.update(new)
            cache.upsert(new)
            logger.debug(
                "updated user",
                metadata: ["user": "\(new.username)", "id": "\(new.id)", "changed": "\(changed)"])
            return (new, changed)
        }
    }

    static let flagNames: [(UserFlags, String)] = [
        (.active, "active"), (.admin, "admin"), (.superuser, "superuser"), (.verified, "verified"),
    ]

    public func deleteUser(_ ref: UserRef) throws(AccountError) -> User {
        try writeLock.withLock { _ throws(AccountError) -> User in
            let old = try user(ref)
            try store.delete(id: old.id)
            cache.remove(id: old.id)
            logger.debug("deleted user", metadata: ["user": "\(old.username)", "id": "\(old.id)"])
            return old
        }
    }
}
