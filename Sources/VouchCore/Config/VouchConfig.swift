import Logging

/// The daemon's effective configuration.  Every field has a documented
/// default; `etc/vouch/vouchd.conf` lists them all, and `ConfigLoader`
/// reads and renders the file format.  Durations are whole seconds.
public struct VouchConfig: Hashable, Sendable {
    // MARK: Socket and access

    /// Unix socket the daemon listens on (`socket_path`), unless systemd
    /// passes a listening socket.
    public var socketPath: String = "/run/vouch/vouchd.sock"
    /// Mode of the socket file (`socket_mode`, octal 0660).
    public var socketMode: UInt32 = 0o660
    /// Group owning the socket file (`socket_group`); nil keeps the daemon's group.
    public var socketGroup: String? = "vouch"
    /// Members of this group may use admin operations (`admin_group`); nil: root only.
    public var adminGroup: String? = "vouch-admin"

    // MARK: Storage and hashing

    /// SQLite database (`database_path`).
    public var databasePath: String = "/var/lib/vouch/vouch.db"
    /// How long a write waits for another process's lock on the database
    /// before answering "storage unavailable" (`database_busy_timeout`, 5s).
    public var databaseBusyTimeout: Int64 = 5
    /// Cost of new password hashes (`argon2_memory_kib` 19456,
    /// `argon2_iterations` 2, `argon2_parallelism` 1).
    public var argon2: Argon2Parameters = Argon2Parameters()
    /// Minimum password length in Unicode scalars (`password_min_length`,
    /// 1...128; the maximum is fixed at 128).
    public var passwordMinLength: Int = 8
    /// Whether a password may not contain the username, nor the email's
    /// local part when it has 3 characters or more, ignoring case
    /// (`password_refuse_identity`, yes).
    public var passwordRefuseIdentity: Bool = true

    // MARK: Sessions and tokens

    /// Lifetime of a session token in seconds (`session_ttl`, 24h).
    public var sessionTTL: Int64 = 24 * 3600
    /// Whether each use of a session extends it by `sessionTTL` (`session_sliding`, no).
    public var sessionSliding: Bool = false
    /// Lifetime of a password-reset token in seconds (`reset_token_ttl`, 1h).
    public var resetTokenTTL: Int64 = 3600
    /// Lifetime of an email-verification token in seconds (`verify_token_ttl`, 1h).
    public var verifyTokenTTL: Int64 = 3600
    /// Whether changing or resetting a password ends the user's other
    /// sessions (`revoke_sessions_on_password_change`, yes).
    public var revokeSessionsOnPasswordChange: Bool = true

    // MARK: Hooks

    /// Directory of hook executables (`hooks_dir`); nil (`none`) runs no hooks.
    public var hooksDir: String? = "/etc/vouch/hooks.d"
    /// Seconds a hook may run before it is killed (`hook_timeout`, 10s).
    public var hookTimeout: Int64 = 10
    /// Hooks run at the same time at most (`hook_concurrency`, 4).
    public var hookConcurrency: Int = 4

    // MARK: Workers and limits

    /// Hashing worker threads (`worker_threads`); 0 means one per core.
    public var workerThreads: Int = 0
    /// Hashing jobs that may wait for a worker before "busy" is answered
    /// (`worker_queue_limit`, 256).
    public var workerQueueLimit: Int = 256
    /// Of those, jobs one source may have waiting (`worker_queue_per_source`,
    /// 32): a peer uid, or for root and admins one PAM service and remote host.
    /// Sources take turns at the workers.
    public var workerQueuePerSource: Int = 32
    /// Largest frame accepted, in bytes (`max_frame_bytes`, 65536; 1024...16 MiB).
    public var maxFrameBytes: Int = 64 * 1024
    /// Open client connections at most (`max_connections`, 1024).
    public var maxConnections: Int = 1024
    /// Open client connections per peer uid at most (`max_connections_per_uid`, 64).
    public var maxConnectionsPerUID: Int = 64
    /// Of `maxConnections`, slots only root and admins may take (`reserved_connections`, 16).
    public var reservedConnections: Int = 16
    /// Seconds a connection may stay idle before it is closed (`idle_timeout`, 5m).
    public var idleTimeout: Int64 = 300
    /// Requests one connection may have in flight (`max_requests_in_flight`,
    /// 64); more are answered "limit exceeded".  Frames must also arrive whole
    /// within `idleTimeout`, at most 10 s, of their first byte.
    public var maxRequestsInFlight: Int = 64

    // MARK: Lockout and rate limits

    /// Consecutive failed logins that lock an account (`lockout_deny`, 5); 0 disables lockout.
    public var lockoutDeny: Int = 5
    /// Failures count towards `lockoutDeny` only within this many seconds
    /// (`lockout_fail_interval`, 15m).
    public var lockoutFailInterval: Int64 = 15 * 60
    /// Seconds a locked account stays locked (`lockout_unlock_time`, 10m);
    /// 0 means until an admin unlocks it.
    public var lockoutUnlockTime: Int64 = 10 * 60
    /// Whether users with the superuser flag are never locked out
    /// (`lockout_exempt_superuser`, yes), like root with pam_faillock.
    public var lockoutExemptSuperuser: Bool = true
    /// Failed logins per minute allowed from one source (`login_failures_per_minute`,
    /// 30): a peer uid, or for root and admins (PAM) one service and remote
    /// host; more are refused without checking the password.  0 disables the limit.
    public var loginFailuresPerMinute: Int = 30
    /// forgot_password and request_verify requests per minute from one peer
    /// uid (`token_requests_per_minute`, 10).  0: no limit.
    public var tokenRequestsPerMinute: Int = 10
    /// Reset or verification tokens issued per account per hour
    /// (`token_requests_per_account_per_hour`, 5); more requests are answered
    /// as usual but do nothing.  0: no limit.
    public var tokenRequestsPerAccountPerHour: Int = 5
    /// Failed reset_password and verify_email per minute from one peer uid
    /// (`token_failures_per_minute`, 10).  0: no limit.
    public var tokenFailuresPerMinute: Int = 10

    // MARK: Linux logins (docs/LINUX-LOGINS.md)

    /// Whether vouchd answers systemd's user record lookups (`userdb`):
    /// `auto` (when systemd passes the socket: vouchd-userdb.socket), `yes` or `no`.
    public var userdb: String = "auto"
    /// The io.systemd.UserDatabase socket (`userdb_socket`).
    public var userdbSocket: String = "/run/systemd/userdb/io.vouch.UserDatabase"
    /// Uids (and gids) given to login users (`uid_range`, 70000-99999).
    public var uidRange: ClosedRange<UInt32> = 70000...99999
    /// Home directory of a login user (`login_home`); `%u` is the username.
    public var loginHome: String = "/home/%u"
    /// Shell of a login user unless set per user (`login_shell`).
    public var loginShell: String = "/bin/bash"
    /// Age after which a password must be changed (`password_max_age`, 0: never);
    /// a per-user value overrides it.
    public var passwordMaxAge: Int64 = 0

    // MARK: Logging

    /// Log level (`log_level`): trace, debug, info, notice, warning, error, critical.
    public var logLevel: String = "info"
    /// Whether a failed login for a name that has no account records the name
    /// as typed (`log_unknown_usernames`, no): it is often a password typed at
    /// the username prompt, so by default it is recorded as `UNKNOWN` (like
    /// login's LOG_UNKFAIL_ENAB).
    public var logUnknownUsernames: Bool = false

    public init() {}

    /// `logLevel` as a swift-log level (`.info` if the string is not a level name).
    public var loggerLevel: Logger.Level {
        Logger.Level(rawValue: logLevel) ?? .info
    }
}
