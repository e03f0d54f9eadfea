/// Every operation of the protocol.  One byte on the wire; the numbers are
/// stable (see docs/PROTOCOL.md).
public enum Opcode: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    case hello = 0x01
    case ping = 0x02
    case status = 0x03

    case createUser = 0x10
    case login = 0x11
    case changePassword = 0x12
    case setPassword = 0x13
    case getUser = 0x14
    case listUsers = 0x15
    case updateUser = 0x16
    case deleteUser = 0x17
    case accountStatus = 0x18
    case unlockUser = 0x19

    case verifyToken = 0x20
    case revokeToken = 0x21
    case revokeTokens = 0x22
    case issueToken = 0x23
    case listTokens = 0x24

    case forgotPassword = 0x30
    case resetPassword = 0x31
    case requestVerify = 0x32
    case verifyEmail = 0x33

    case listEvents = 0x40

    case backupBegin = 0x50
    case backupRead = 0x51
    case backupEnd = 0x52
    case exportUsers = 0x53
    case importBegin = 0x54
    case importAdd = 0x55
    case importCommit = 0x56

    case getLinuxAccount = 0x60
    case setLinuxAccount = 0x61
    case addSSHKey = 0x62
    case removeSSHKey = 0x63
    case setPasswordAging = 0x64

    /// Every property of this opcode, decided on its one row: adding an
    /// opcode does not compile until its row is written (no `default:`).
    /// The server's authorization, secret wiping, logging and choice of
    /// thread all read from here (the model: OpenSSH's `monitor.c` table).
    public var traits: OpcodeTraits {
        switch self {
        case .hello: OpcodeTraits("hello", .anyPeer, secret: false, runs: .inline, writes: false)
        case .ping: OpcodeTraits("ping", .anyPeer, secret: false, runs: .inline, writes: false)
        case .status: OpcodeTraits("status", .admin, secret: false, runs: .inline, writes: false)
        case .createUser: OpcodeTraits("create_user", .admin, secret: true, runs: .worker, writes: true)
        case .login: OpcodeTraits("login", .anyPeer, secret: true, runs: .worker, writes: true)
        case .changePassword: OpcodeTraits("change_password", .anyPeer, secret: true, runs: .worker, writes: true)
        case .setPassword: OpcodeTraits("set_password", .admin, secret: true, runs: .worker, writes: true)
        case .getUser: OpcodeTraits("get_user", .admin, secret: false, runs: .inline, writes: false)
        case .listUsers: OpcodeTraits("list_users", .admin, secret: false, runs: .worker, writes: false)
        case .updateUser: OpcodeTraits("update_user", .admin, secret: false, runs: .worker, writes: true)
        case .deleteUser: OpcodeTraits("delete_user", .admin, secret: false, runs: .worker, writes: true)
        case .accountStatus: OpcodeTraits("account_status", .anyPeer, secret: false, runs: .inline, writes: false)
        case .unlockUser: OpcodeTraits("unlock_user", .admin, secret: false, runs: .worker, writes: true)
        case .verifyToken: OpcodeTraits("verify_token", .anyPeer, secret: true, runs: .inline, writes: false)
        case .revokeToken: OpcodeTraits("revoke_token", .anyPeer, secret: true, runs: .worker, writes: true)
        case .revokeTokens: OpcodeTraits("revoke_tokens", .admin, secret: false, runs: .worker, writes: true)
        case .issueToken: OpcodeTraits("issue_token", .admin, secret: false, runs: .worker, writes: true)
        case .listTokens: OpcodeTraits("list_tokens", .admin, secret: false, runs: .inline, writes: false)
        case .forgotPassword:
            OpcodeTraits("forgot_password", .anyPeer, secret: false, runs: .answeredThenTokenWorker, writes: true)
        case .resetPassword: OpcodeTraits("reset_password", .anyPeer, secret: true, runs: .worker, writes: true)
        case .requestVerify: OpcodeTraits("request_verify", .admin, secret: false, runs: .tokenWorker, writes: true)
        case .verifyEmail: OpcodeTraits("verify_email", .anyPeer, secret: true, runs: .worker, writes: true)
        case .listEvents: OpcodeTraits("list_events", .admin, secret: false, runs: .worker, writes: false)
        case .backupBegin: OpcodeTraits("backup_begin", .admin, secret: false, runs: .worker, writes: false)
        case .backupRead: OpcodeTraits("backup_read", .admin, secret: false, runs: .worker, writes: false)
        case .backupEnd: OpcodeTraits("backup_end", .admin, secret: false, runs: .worker, writes: false)
        case .exportUsers: OpcodeTraits("export_users", .admin, secret: false, runs: .worker, writes: false)
        case .importBegin: OpcodeTraits("import_begin", .admin, secret: false, runs: .worker, writes: false)
        case .importAdd: OpcodeTraits("import_add", .admin, secret: false, runs: .worker, writes: false)
        case .importCommit: OpcodeTraits("import_commit", .admin, secret: false, runs: .worker, writes: true)
        case .getLinuxAccount: OpcodeTraits("get_linux_account", .admin, secret: false, runs: .inline, writes: false)
        case .setLinuxAccount: OpcodeTraits("set_linux_account", .admin, secret: false, runs: .worker, writes: true)
        case .addSSHKey: OpcodeTraits("add_ssh_key", .admin, secret: false, runs: .worker, writes: true)
        case .removeSSHKey: OpcodeTraits("remove_ssh_key", .admin, secret: false, runs: .worker, writes: true)
        case .setPasswordAging: OpcodeTraits("set_password_aging", .admin, secret: false, runs: .worker, writes: true)
        }
    }

    /// The name in logs, events and docs/PROTOCOL.md.
    public var description: String { traits.name }

    /// Operations any peer that can reach the socket may use; everything
    /// else needs an admin peer (uid 0, the daemon's uid, or the admin group).
    public var isOpenToAnyPeer: Bool { traits.access == .anyPeer }

    /// Whether a request of this opcode holds a password or token in its body
    /// (its frame is wiped once read, whether or not it decodes).
    public var carriesSecret: Bool { traits.carriesSecret }
}

/// What an opcode is: one row of `Opcode.traits`.
public struct OpcodeTraits: Sendable, Equatable {
    /// Who may call it.
    public enum Access: Sendable, Equatable {
        /// Any peer that can reach the socket.
        case anyPeer
        /// uid 0, the daemon's uid, or a member of the admin group.
        case admin
    }

    /// Where the server does the work, and when it answers.
    public enum Runs: Sendable, Equatable {
        /// From memory, on the event loop, answered before the next request is read.
        case inline
        /// On the worker pool (password hashing, database reads and writes); answered when done.
        case worker
        /// On the token pool (database writes and hooks, never in the way of logins); answered when done.
        case tokenWorker
        /// Answered at once, the same whatever the outcome; the work follows on the token pool.
        case answeredThenTokenWorker
    }

    /// The snake_case name (logs, events, docs).
    public let name: String
    public let access: Access
    /// Its request carries a password or token (the frame is wiped once read).
    public let carriesSecret: Bool
    public let runs: Runs
    /// It may change stored state (users, tokens, events, Linux logins).
    public let writes: Bool

    init(_ name: String, _ access: Access, secret: Bool, runs: Runs, writes: Bool) {
        self.name = name
        self.access = access
        self.carriesSecret = secret
        self.runs = runs
        self.writes = writes
    }
}
