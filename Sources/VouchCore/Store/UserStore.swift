import FoundationEssentials

/// A user not yet stored: the store assigns the id.
public struct NewUserRow: Hashable, Sendable {
    public var uuid: UUID
    public var username: String
    public var email: String?
    public var passwordHash: String
    public var flags: UserFlags
    public var createdAt: Int64

    public init(
        uuid: UUID, username: String, email: String?, passwordHash: String, flags: UserFlags,
        createdAt: Int64
    ) {
        self.uuid = uuid
        self.username = username
        self.email = email
        self.passwordHash = passwordHash
        self.flags = flags
        self.createdAt = createdAt
    }
}

/// Durable storage of users.  Every method returns only after the change
/// is durable (committed and synced); the cache is updated by the caller
/// afterwards.  Implementations are thread-safe.
///
/// Errors: a unique username or email → `.usernameTaken` / `.emailTaken`;
/// a missing row → `.notFound`; anything else → `.storageUnavailable` with a
/// short reason that contains no user data.
public protocol UserStore: Sendable {
    /// Every user, for filling the cache at startup.
    func loadAllUsers() throws(AccountError) -> [User]
    /// Stores a new user and returns it with its assigned id
    /// (`updatedAt == createdAt`, no last login, no failures).
    func insert(_ row: NewUserRow) throws(AccountError) -> User
    /// Replaces every mutable field of the user with `user.id`.
    func update(_ user: User) throws(AccountError)
    /// Records a successful login; when `passwordHash` is given (a rehash)
    /// it is stored in the same transaction and `updated_at` set to `lastLogin`.
    func updateLogin(id: Int64, lastLogin: Int64, passwordHash: String?) throws(AccountError)
    /// Records a successful login and, when `session` is given, stores that
    /// token (its `id` is ignored), in one transaction: both or neither.
    /// `user` is written whole when `wholeRow` (the login cleared failures),
    /// else only its last login and, when `rehashed`, its hash and `updated_at`.
    /// Returns the stored token with its id.
    func recordLogin(_ user: User, wholeRow: Bool, rehashed: Bool, session: TokenRecord?)
        throws(AccountError) -> TokenRecord?
    /// Removes the user with `id`.
    func delete(id: Int64) throws(AccountError)
    /// In one transaction: inserts `inserts` (their `id` is ignored and
    /// assigned) and replaces every field of `updates`.  Returns the inserted
    /// users with their ids.  All or nothing.
    func importUsers(inserts: [User], updates: [User]) throws(AccountError) -> [User]
    /// Flushes and closes; later calls fail with `.storageUnavailable`.
    func checkpointAndClose()
}
