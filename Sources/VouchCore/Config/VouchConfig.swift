/// The daemon's effective configuration.  Every field has a documented
/// default; `etc/vouch/vouchd.conf` lists them all.
public struct VouchConfig: Hashable, Sendable {
    /// Unix socket the daemon listens on.
    public var socketPath: String = "/run/vouch/vouchd.sock"
    /// Mode of the socket file (octal 0660).
    public var socketMode: UInt32 = 0o660
    /// Group owning the socket file; nil keeps the daemon's group.
    public var socketGroup: String? = "vouch"
    /// Members of this group may use admin operations.
    public var adminGroup: String? = "vouch-admin"
    /// SQLite database.
    public var databasePath: String = "/var/lib/vouch/vouch.db"
    /// Cost of new password hashes.
    public var argon2: Argon2Parameters = Argon2Parameters()
    /// Minimum password length in Unicode scalars (maximum is fixed at 128).
    public var passwordMinLength: Int = 8
    /// Hashing worker threads; 0 means one per core.
    public var workerThreads: Int = 0
    /// Hashing jobs that may wait for a worker before "busy" is answered.
    public var workerQueueLimit: Int = 256
    /// Largest frame accepted, in bytes.
    public var maxFrameBytes: Int = 64 * 1024
    /// Log level: trace, debug, info, notice, warning, error, critical.
    public var logLevel: String = "info"

    public init() {}
}
