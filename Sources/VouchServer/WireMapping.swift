import FoundationEssentials
import VouchCore
import VouchProtocol

/// Conversions between the core's values and the wire's.  The only place
/// where both vocabularies meet.
enum WireMapping {
    static func record(_ user: User) -> UserRecord {
        UserRecord(
            id: user.id, uuid: wireUUID(user.uuid), username: user.username, email: user.email,
            flags: AccountFlags(rawValue: user.flags.rawValue), createdAt: user.createdAt,
            updatedAt: user.updatedAt, lastLogin: user.lastLogin, failedLogins: user.failedLogins,
            lockedUntil: user.lockedUntil)
    }

    static func wireUUID(_ uuid: UUID) -> WireUUID {
        withUnsafeBytes(of: uuid.uuid) { WireUUID(bytes: Array($0))! }
    }

    static func uuid(_ wire: WireUUID) -> UUID {
        let b = wire.bytes
        return UUID(
            uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])
        )
    }

    static func ref(_ selector: UserSelector) -> UserRef {
        switch selector {
        case .id(let id): return .id(id)
        case .uuid(let u): return .uuid(uuid(u))
        case .username(let name): return .name(name)
        case .any(let text): return .any(text)
        }
    }

    static func flags(_ flags: AccountFlags) -> UserFlags { UserFlags(rawValue: flags.rawValue) }

    static func order(_ order: UserSortOrder) -> UserOrder {
        switch order {
        case .username: return .username
        case .id: return .id
        case .created: return .created
        case .lastLogin: return .lastLogin
        }
    }

    static func status(_ code: AccountError.Code) -> Status {
        switch code {
        case .invalidCredentials: return .invalidCredentials
        case .inactive: return .inactive
        case .notFound: return .notFound
        case .usernameTaken: return .usernameTaken
        case .emailTaken: return .emailTaken
        case .passwordRejected: return .passwordRejected
        case .invalidInput: return .invalidInput
        case .busy: return .busy
        case .storageUnavailable: return .storageUnavailable
        case .invalidToken: return .invalidToken
        case .locked: return .locked
        case .rateLimited: return .rateLimited
        case .alreadyVerified: return .alreadyVerified
        case .vetoed: return .vetoed
        case .passwordExpired: return .passwordExpired
        default: return .internalError
        }
    }

    static func dataRecord(_ user: User) -> UserDataRecord {
        UserDataRecord(
            id: user.id, uuid: wireUUID(user.uuid), username: user.username, email: user.email,
            passwordHash: user.passwordHash, flags: AccountFlags(rawValue: user.flags.rawValue),
            createdAt: user.createdAt, updatedAt: user.updatedAt, lastLogin: user.lastLogin,
            failedLogins: user.failedLogins, lockedUntil: user.lockedUntil)
    }

    static func importedUser(_ record: UserDataRecord) -> ImportedUser {
        ImportedUser(
            uuid: record.uuid.map(uuid), username: record.username, email: record.email,
            passwordHash: record.passwordHash, flags: flags(record.flags), createdAt: record.createdAt,
            updatedAt: record.updatedAt, lastLogin: record.lastLogin, failedLogins: record.failedLogins,
            lockedUntil: record.lockedUntil)
    }

    static func linuxRecord(_ user: User, _ p: LoginProfile, _ logins: LoginService) -> LinuxAccountRecord {
        let settings = logins.settings
        let state: WirePasswordState
        switch logins.passwordAge(of: user) {
        case .current: state = .current
        case .expired: state = .expired
        case .mustChange: state = .mustChange
        }
        return LinuxAccountRecord(
            userId: user.id, username: user.username, login: p.login, uid: p.uid ?? 0, realName: p.realName,
            home: settings.home(of: p, username: user.username), shell: settings.shell(of: p),
            passwordChangedAt: p.passwordChangedAt, passwordMaxAge: p.passwordMaxAge,
            effectiveMaxAge: p.passwordMaxAge ?? settings.passwordMaxAge, mustChangePassword: p.mustChangePassword,
            passwordState: state, sshKeys: p.sshKeys)
    }

    static func tokenInfo(_ t: TokenRecord) -> TokenInfo {
        TokenInfo(id: t.id, label: t.label, createdAt: t.createdAt, expiresAt: t.expiresAt, lastUsed: t.lastUsed)
    }

    static func eventRecord(_ e: StoredEvent) -> EventRecord {
        EventRecord(
            id: e.id, time: e.time, event: e.event, userId: e.userId, username: e.username, peerUid: e.peerUid,
            peerPid: e.peerPid, detail: e.detail)
    }

    static func accountState(_ state: AccountState) -> WireAccountState {
        switch state {
        case .active: return .active
        case .inactive: return .inactive
        case .locked: return .locked
        }
    }
}
