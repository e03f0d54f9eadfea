import VouchSecrets

/// A request body, one case per opcode.  Passwords and tokens are
/// `SecretBytes`, never `String`.
public enum Request: Sendable {
    case hello(clientName: String)
    case ping
    case status

    case createUser(username: String, email: String?, password: SecretBytes, flags: AccountFlags)
    case login(username: String, password: SecretBytes, wantToken: Bool, context: LoginContext)
    case changePassword(username: String, old: SecretBytes, new: SecretBytes)
    case setPassword(user: UserSelector, password: SecretBytes)
    case getUser(UserSelector)
    case listUsers(limit: UInt32, page: UInt32, order: UserSortOrder, descending: Bool)
    /// `email`: nil leaves it, `.some(nil)` clears it.  `flagMask` says which
    /// flags to set, `flagValues` their new values.
    case updateUser(
        user: UserSelector, email: String??, flagMask: AccountFlags, flagValues: AccountFlags)
    case deleteUser(UserSelector)
    /// Whether an account may log in now (PAM's account phase): any peer.
    case accountStatus(username: String)
    /// Clears a user's failed logins and lock (admin).
    case unlockUser(UserSelector)

    case verifyToken(SecretBytes)
    case revokeToken(SecretBytes)
    case revokeTokens(UserSelector)
    /// `ttlSeconds` 0 means the configured session lifetime.
    case issueToken(user: UserSelector, label: String, ttlSeconds: Int64)
    case listTokens(UserSelector)

    case forgotPassword(usernameOrEmail: String)
    case resetPassword(token: SecretBytes, password: SecretBytes)
    case requestVerify(UserSelector)
    case verifyEmail(token: SecretBytes)

    case listEvents(user: UserSelector?, sinceMillis: Int64, limit: UInt32)

    /// Backups, export and import (opcodes 0x50-0x56, DataMessages.swift).
    case data(DataRequest)
    /// Linux logins, SSH keys and password aging (opcodes 0x60-0x64, LinuxMessages.swift).
    case linux(LinuxRequest)

    public var opcode: Opcode {
        switch self {
        case .hello: return .hello
        case .ping: return .ping
        case .status: return .status
        case .createUser: return .createUser
        case .login: return .login
        case .changePassword: return .changePassword
        case .setPassword: return .setPassword
        case .getUser: return .getUser
        case .listUsers: return .listUsers
        case .updateUser: return .updateUser
        case .deleteUser: return .deleteUser
        case .accountStatus: return .accountStatus
        case .unlockUser: return .unlockUser
        case .verifyToken: return .verifyToken
        case .revokeToken: return .revokeToken
        case .revokeTokens: return .revokeTokens
        case .issueToken: return .issueToken
        case .listTokens: return .listTokens
        case .forgotPassword: return .forgotPassword
        case .resetPassword: return .resetPassword
        case .requestVerify: return .requestVerify
        case .verifyEmail: return .verifyEmail
        case .listEvents: return .listEvents
        case .data(let request): return request.opcode
        case .linux(let request): return request.opcode
        }
    }

    /// Whether the body holds a password or token (its frame is wiped after use).
    public var carriesSecret: Bool { opcode.carriesSecret }

    /// Writes the body (not the header).
    public func encodeBody(into w: inout WireWriter) {
        switch self {
        case .hello(let name):
            w.string(name)
        case .ping, .status:
            break
        case .createUser(let username, let email, let password, let flags):
            w.string(username)
            w.optionalString(email)
            w.secret(password)
            w.u8(flags.rawValue)
        case .login(let username, let password, let wantToken, let context):
            w.string(username)
            w.secret(password)
            w.u8(wantToken ? 1 : 0)
            w.string(context.service)
            w.string(context.remoteHost)
            w.string(context.tty)
        case .changePassword(let username, let old, let new):
            w.string(username)
            w.secret(old)
            w.secret(new)
        case .setPassword(let user, let password):
            user.encode(into: &w)
            w.secret(password)
        case .getUser(let user), .deleteUser(let user), .revokeTokens(let user),
            .listTokens(let user), .requestVerify(let user), .unlockUser(let user):
            user.encode(into: &w)
        case .accountStatus(let username):
            w.string(username)
        case .listUsers(let limit, let page, let order, let descending):
            w.u32(limit)
            w.u32(page)
            w.u8(order.rawValue)
            w.bool(descending)
        case .updateUser(let user, let email, let flagMask, let flagValues):
            user.encode(into: &w)
            if let email {
                w.u8(1)
                w.optionalString(email)
            } else {
                w.u8(0)
            }
            w.u8(flagMask.rawValue)
            w.u8(flagValues.rawValue)
        case .verifyToken(let token), .revokeToken(let token), .verifyEmail(let token):
            w.secret(token)
        case .issueToken(let user, let label, let ttl):
            user.encode(into: &w)
            w.string(label)
            w.i64(ttl)
        case .forgotPassword(let who):
            w.string(who)
        case .resetPassword(let token, let password):
            w.secret(token)
            w.secret(password)
        case .listEvents(let user, let since, let limit):
            if let user {
                w.u8(1)
                user.encode(into: &w)
            } else {
                w.u8(0)
            }
            w.i64(since)
            w.u32(limit)
        case .data(let request):
            request.encodeBody(into: &w)
        case .linux(let request):
            request.encodeBody(into: &w)
        }
    }

    /// Decodes the body of `opcode`; every byte must be consumed.
    public static func decodeBody(_ opcode: Opcode, from r: inout WireReader) throws(WireDecodeError)
        -> Request
    {
        let request: Request
        switch opcode {
        case .hello:
            request = .hello(clientName: try r.string("client_name"))
        case .ping:
            request = .ping
        case .status:
            request = .status
        case .createUser:
            request = .createUser(
                username: try r.string("username"), email: try r.optionalString("email"),
                password: try r.secret("password"), flags: try flags(&r))
        case .login:
            let username = try r.string("username")
            let password = try r.secret("password")
            let options = try r.u8("options")
            guard options & ~1 == 0 else { throw WireDecodeError("unknown login option bits") }
            request = .login(
                username: username, password: password, wantToken: options & 1 == 1,
                context: LoginContext(
                    service: try r.string("service"), remoteHost: try r.string("rhost"),
                    tty: try r.string("tty")))
        case .changePassword:
            request = .changePassword(
                username: try r.string("username"), old: try r.secret("old_password"),
                new: try r.secret("new_password"))
        case .setPassword:
            request = .setPassword(
                user: try UserSelector.decode(from: &r), password: try r.secret("password"))
        case .getUser:
            request = .getUser(try UserSelector.decode(from: &r))
        case .listUsers:
            let limit = try r.u32("limit")
            let page = try r.u32("page")
            let rawOrder = try r.u8("order")
            guard let order = UserSortOrder(rawValue: rawOrder) else {
                throw WireDecodeError("unknown sort order \(rawOrder)")
            }
            request = .listUsers(
                limit: limit, page: page, order: order, descending: try r.bool("descending"))
        case .updateUser:
            let user = try UserSelector.decode(from: &r)
            let email: String?? = try r.bool("set_email") ? .some(try r.optionalString("email")) : nil
            request = .updateUser(
                user: user, email: email, flagMask: try flags(&r), flagValues: try flags(&r))
        case .deleteUser:
            request = .deleteUser(try UserSelector.decode(from: &r))
        case .accountStatus:
            request = .accountStatus(username: try r.string("username"))
        case .unlockUser:
            request = .unlockUser(try UserSelector.decode(from: &r))
        case .verifyToken:
            request = .verifyToken(try r.secret("token"))
        case .revokeToken:
            request = .revokeToken(try r.secret("token"))
        case .revokeTokens:
            request = .revokeTokens(try UserSelector.decode(from: &r))
        case .issueToken:
            request = .issueToken(
                user: try UserSelector.decode(from: &r), label: try r.string("label"),
                ttlSeconds: try r.i64("ttl_seconds"))
        case .listTokens:
            request = .listTokens(try UserSelector.decode(from: &r))
        case .forgotPassword:
            request = .forgotPassword(usernameOrEmail: try r.string("user"))
        case .resetPassword:
            request = .resetPassword(token: try r.secret("token"), password: try r.secret("password"))
        case .requestVerify:
            request = .requestVerify(try UserSelector.decode(from: &r))
        case .verifyEmail:
            request = .verifyEmail(token: try r.secret("token"))
        case .listEvents:
            let user = try r.bool("has_user") ? try UserSelector.decode(from: &r) : nil
            request = .listEvents(user: user, sinceMillis: try r.i64("since"), limit: try r.u32("limit"))
        case .backupBegin, .backupRead, .backupEnd, .exportUsers, .importBegin, .importAdd, .importCommit:
            request = .data(try DataRequest.decodeBody(opcode, from: &r))
        case .getLinuxAccount, .setLinuxAccount, .addSSHKey, .removeSSHKey, .setPasswordAging:
            request = .linux(try LinuxRequest.decodeBody(opcode, from: &r))
        }
        try r.finish()
        return request
    }

    private static func flags(_ r: inout WireReader) throws(WireDecodeError) -> AccountFlags {
        let raw = try r.u8("flags")
        guard raw & ~AccountFlags.all.rawValue == 0 else { throw WireDecodeError("unknown flag bits") }
        return AccountFlags(rawValue: raw)
    }
}
