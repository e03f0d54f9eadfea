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

    public var description: String {
        switch self {
        case .hello: return "hello"
        case .ping: return "ping"
        case .status: return "status"
        case .createUser: return "create_user"
        case .login: return "login"
        case .changePassword: return "change_password"
        case .setPassword: return "set_password"
        case .getUser: return "get_user"
        case .listUsers: return "list_users"
        case .updateUser: return "update_user"
        case .deleteUser: return "delete_user"
        case .accountStatus: return "account_status"
        case .unlockUser: return "unlock_user"
        case .verifyToken: return "verify_token"
        case .revokeToken: return "revoke_token"
        case .revokeTokens: return "revoke_tokens"
        case .issueToken: return "issue_token"
        case .listTokens: return "list_tokens"
        case .forgotPassword: return "forgot_password"
        case .resetPassword: return "reset_password"
        case .requestVerify: return "request_verify"
        case .verifyEmail: return "verify_email"
        case .listEvents: return "list_events"
        case .backupBegin: return "backup_begin"
        case .backupRead: return "backup_read"
        case .backupEnd: return "backup_end"
        case .exportUsers: return "export_users"
        case .importBegin: return "import_begin"
        case .importAdd: return "import_add"
        case .importCommit: return "import_commit"
        case .getLinuxAccount: return "get_linux_account"
        case .setLinuxAccount: return "set_linux_account"
        case .addSSHKey: return "add_ssh_key"
        case .removeSSHKey: return "remove_ssh_key"
        case .setPasswordAging: return "set_password_aging"
        }
    }

    /// Operations any peer that can reach the socket may use; everything
    /// else needs an admin peer (uid 0, the daemon's uid, or the admin group).
    public var isOpenToAnyPeer: Bool {
        switch self {
        case .hello, .ping, .login, .changePassword, .verifyToken, .revokeToken,
            .forgotPassword, .resetPassword, .verifyEmail, .accountStatus:
            return true
        default:
            return false
        }
    }

    /// Whether a request of this opcode holds a password or token in its body
    /// (its frame is wiped once read, whether or not it decodes).
    public var carriesSecret: Bool {
        switch self {
        case .createUser, .login, .changePassword, .setPassword, .verifyToken, .revokeToken,
            .resetPassword, .verifyEmail:
            return true
        default:
            return false
        }
    }
}
