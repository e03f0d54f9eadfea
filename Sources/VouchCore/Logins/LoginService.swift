import Logging

/// Linux logins and password aging: the profiles of ``LoginDirectory``,
/// written through to the store under the accounts' write lock (so a
/// profile never outlives its user and uids are handed out one at a time).
///
/// Lookups are memory only; changes are blocking (they write, and uid
/// allocation asks NSS): call them from a worker thread.
public final class LoginService: Sendable {
    let accounts: AccountService
    let store: SQLiteUserStore
    public let directory = LoginDirectory()
    let host: HostAccounts
    let clock: any VouchClock
    let logger: Logger
    let settingsBox: Locked<LoginSettings>
    /// Every uid ever given out (never reused).
    let usedUIDs = Locked(Set<UInt32>())

    /// Keys a user may have at most.
    public static let maxKeys = 100

    public init(
        accounts: AccountService, store: SQLiteUserStore, settings: LoginSettings, host: HostAccounts = HostAccounts(),
        clock: any VouchClock = SystemClock(), logger: Logger
    ) {
        self.accounts = accounts
        self.store = store
        self.settingsBox = Locked(settings)
        self.host = host
        self.clock = clock
        self.logger = logger
    }

    public var settings: LoginSettings { settingsBox.withLock { $0 } }

    /// Applies new settings (a config reload); profiles keep their uids.
    public func reconfigure(_ settings: LoginSettings) { settingsBox.withLock { $0 = settings } }

    public func load() throws(AccountError) {
        let (profiles, used) = try store.loadLoginProfiles()
        directory.replaceAll(profiles)
        usedUIDs.withLock { $0 = used }
    }

    // MARK: - Lookups (memory only)

    /// The profile of `user` (a default one when none is stored).
    public func profile(of user: User) -> LoginProfile {
        directory.profile(userId: user.id) ?? LoginProfile(userId: user.id)
    }

    /// A login user by name, with their profile; nil for anyone else.
    public func loginUser(named name: String) -> (User, LoginProfile)? {
        guard let user = accounts.cache.user(named: name), user.username == name,
            let p = directory.profile(userId: user.id), p.login
        else { return nil }
        return (user, p)
    }

    /// A login user by uid, with their profile; nil for anyone else.
    public func loginUser(uid: UInt32) -> (User, LoginProfile)? {
        guard let id = directory.userId(uid: uid), let user = accounts.cache.user(.id(id)),
            let p = directory.profile(userId: id)
        else { return nil }
        return (user, p)
    }

    /// Every login user, in uid order.
    public func loginUsers() -> [(User, LoginProfile)] {
        directory.logins().compactMap { p in accounts.cache.user(.id(p.userId)).map { ($0, p) } }
    }

    public func passwordAge(of user: User) -> PasswordAge {
        PasswordAge.of(
            user, directory.profile(userId: user.id), now: clock.nowMillis(), defaultMaxAge: settings.passwordMaxAge)
    }

    /// The password age of the user named `name`; `.current` for no such user.
    public func passwordAge(named name: String) -> PasswordAge {
        accounts.cache.user(named: name).map(passwordAge(of:)) ?? .current
    }

    // MARK: - Changes

    /// What `setLogin` changes; nil leaves a field, `.some(nil)` returns it to the default.
    public struct Change: Sendable {
        public var login: Bool?
        public var realName: String?
        public var home: String??
        public var shell: String??
        public init(login: Bool? = nil, realName: String? = nil, home: String?? = nil, shell: String?? = nil) {
            self.login = login
            self.realName = realName
            self.home = home
            self.shell = shell
        }
    }

    public func setLogin(_ ref: UserRef, _ change: Change) throws(AccountError) -> (User, LoginProfile) {
        if let name = change.realName, let problem = Self.realNameProblem(name) {
            throw AccountError.invalidInput(problem)
        }
        if case .some(.some(let home)) = change.home, let problem = Self.homeProblem(home) {
            throw AccountError.invalidInput(problem)
        }
        if case .some(.some(let shell)) = change.shell, let problem = host.shellProblem(shell) {
            throw AccountError.invalidInput(problem)
        }
        // Host checks (files, NSS: maybe slow) before the write lock, which
        // would otherwise hold up every write behind another NSS provider.
        var candidate: UInt32?
        if change.login == true {
            let user = try accounts.user(ref)
            if let problem = host.nameProblem(user.username) { throw AccountError.invalidInput(problem) }
            if change.shell == nil || change.shell == .some(nil), profile(of: user).shell == nil,
                let problem = host.shellProblem(settings.defaultShell)
            {
                throw AccountError.invalidInput("login_shell: \(problem)")
            }
            if let uid = profile(of: user).uid {
                if host.idInUse(uid, owner: user.username) {
                    throw AccountError.invalidInput("uid \(uid) is now in use on this host; the user cannot log in")
                }
            } else {
                candidate = try allocateUID(for: user)
            }
        }
        return try modify(ref) { user, p throws(AccountError) in
            if let name = change.realName { p.realName = name }
            if let home = change.home { p.home = home }
            if let shell = change.shell { p.shell = shell }
            if let login = change.login { p.login = login }
            guard p.login, p.uid == nil else { return }
            // Given to another user meanwhile: look again (under the lock, rarely).
            if let candidate, !usedUIDs.withLock({ $0.contains(candidate) }) {
                p.uid = candidate
            } else {
                p.uid = try allocateUID(for: user)
            }
        }
    }

    public func addKey(_ ref: UserRef, _ key: String) throws(AccountError) -> (User, LoginProfile) {
        let line = try Self.checkedKey(key)
        return try modify(ref) { _, p throws(AccountError) in
            guard !p.sshKeys.contains(where: { Self.keyBlob($0) == Self.keyBlob(line) }) else {
                throw AccountError.invalidInput("The user already has this key")
            }
            guard p.sshKeys.count < Self.maxKeys else {
                throw AccountError.invalidInput("A user may have at most \(Self.maxKeys) keys")
            }
            p.sshKeys.append(line)
        }
    }

    /// Removes the key whose line or base64 blob is `key`.
    public func removeKey(_ ref: UserRef, _ key: String) throws(AccountError) -> (User, LoginProfile) {
        try modify(ref) { _, p throws(AccountError) in
            let blob = Self.keyBlob(key) ?? Substring(key)
            guard let i = p.sshKeys.firstIndex(where: { $0 == key || Self.keyBlob($0) == blob }) else {
                throw AccountError(.notFound, "The user has no such key")
            }
            p.sshKeys.remove(at: i)
        }
    }

    /// `maxAge`: nil leaves it, `.some(nil)` returns to `password_max_age`, 0 never expires.
    /// `mustChange`: nil leaves it.
    public func setAging(_ ref: UserRef, maxAge: Int64??, mustChange: Bool?) throws(AccountError) -> (
        User, LoginProfile
    ) {
        if case .some(.some(let age)) = maxAge, age < 0 {
            throw AccountError.invalidInput("The maximum age must not be negative")
        }
        return try modify(ref) { _, p in
            if let maxAge { p.passwordMaxAge = maxAge }
            if let mustChange { p.mustChangePassword = mustChange }
        }
    }

    /// Called after any password change of `userId`: restarts its age and clears a forced change.
    public func passwordChanged(userId: Int64) throws(AccountError) {
        _ = try modify(.id(userId)) { _, p in
            p.passwordChangedAt = clock.nowMillis()
            p.mustChangePassword = false
        }
    }

    /// Forgets a deleted user's profile (the store dropped it by cascade; the uid stays used).
    public func forget(userId: Int64) { directory.remove(userId: userId) }

    private func modify(_ ref: UserRef, _ body: (User, inout LoginProfile) throws(AccountError) -> Void)
        throws(AccountError) -> (User, LoginProfile)
    {
        try accounts.writeLock.withLock { _ throws(AccountError) -> (User, LoginProfile) in
            let user = try accounts.user(ref)
            let old = profile(of: user)
            var p = old
            try body(user, &p)
            guard p != old else { return (user, p) }
            try store.saveLoginProfile(p, now: clock.nowMillis())
            directory.upsert(p)
            if let uid = p.uid { usedUIDs.withLock { _ = $0.insert(uid) } }
            if p.login != old.login {
                logger.notice(
                    p.login ? "login enabled" : "login disabled",
                    metadata: [
                        "user": "\(user.username)", "id": "\(user.id)", "uid": "\(p.uid.map(String.init) ?? "-")",
                    ])
            }
            return (user, p)
        }
    }

    /// The lowest uid of the range never given out and not used on the host.
    private func allocateUID(for user: User) throws(AccountError) -> UInt32 {
        let used = usedUIDs.withLock { $0 }
        for uid in settings.uidRange where !used.contains(uid) && !host.idInUse(uid) {
            logger.info("uid allocated", metadata: ["user": "\(user.username)", "uid": "\(uid)"])
            return uid
        }
        throw AccountError.invalidInput(
            "No free uid left in uid_range \(settings.uidRange.lowerBound)-\(settings.uidRange.upperBound)")
    }

    // MARK: - Input rules

    static func realNameProblem(_ name: String) -> String? {
        guard name.utf8.count <= 256,
            !name.contains(where: { $0 == ":" || $0 == "\n" || $0.asciiValue.map { $0 < 32 } == true })
        else { return "A real name has at most 256 bytes and no ':' or control characters" }
        return nil
    }

    static func homeProblem(_ home: String) -> String? {
        guard home.hasPrefix("/"), home.utf8.count <= 4000, !home.contains(":"), !home.contains("\n"),
            !home.split(separator: "/").contains(where: { $0 == ".." || $0 == "." })
        else { return "A home directory is an absolute path without ':', '.' or '..' components" }
        return nil
    }

    static let keyTypes = [
        "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
    ]

    /// One `authorized_keys` line: `[options] type base64 [comment]`, as given, trimmed.
    static func checkedKey(_ key: String) throws(AccountError) -> String {
        let line = key.trimmingPrefix(while: { $0 == " " || $0 == "\t" })
        var trimmed = String(line)
        while trimmed.last == " " || trimmed.last == "\n" || trimmed.last == "\t" { trimmed.removeLast() }
        guard !trimmed.isEmpty, trimmed.utf8.count <= 16384,
            !trimmed.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\0" }), keyBlob(trimmed) != nil
        else {
            throw AccountError.invalidInput(
                "Not an OpenSSH public key (one line: type, base64 key, optional comment)")
        }
        return trimmed
    }

    /// The base64 key of a public key line (the field after its type).
    static func keyBlob(_ line: String) -> Substring? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard let i = fields.firstIndex(where: { keyTypes.contains(String($0)) }), i + 1 < fields.count else {
            return nil
        }
        let blob = fields[i + 1]
        guard blob.count >= 16,
            blob.utf8.allSatisfy({
                ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 43 || $0 == 47
                    || $0 == 61
            })
        else { return nil }
        return blob
    }
}
