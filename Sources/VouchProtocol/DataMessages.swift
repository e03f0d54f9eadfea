/// Bodies of the data operations (opcodes 0x50-0x56): online backups,
/// export and import.  See docs/PROTOCOL.md, "Backup, export and import".

/// A user with every field, password hash included: `export_users` answers
/// with these and `import_add` sends them.  On import `id` is ignored and
/// the times may be absent (the daemon then uses the time of the import).
/// The hash is sensitive: whoever holds it can attack the password offline.
public struct UserDataRecord: Hashable, Sendable {
    public var id: Int64
    public var uuid: WireUUID?
    public var username: String
    public var email: String?
    public var passwordHash: String
    public var flags: AccountFlags
    public var createdAt: Int64?
    public var updatedAt: Int64?
    public var lastLogin: Int64?
    public var failedLogins: UInt32
    public var lockedUntil: Int64?

    public init(
        id: Int64 = 0, uuid: WireUUID? = nil, username: String, email: String? = nil, passwordHash: String,
        flags: AccountFlags = .active, createdAt: Int64? = nil, updatedAt: Int64? = nil, lastLogin: Int64? = nil,
        failedLogins: UInt32 = 0, lockedUntil: Int64? = nil
    ) {
        self.id = id
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

    /// `export_user`: `i64 id, uuid uuid, str username, opt<str> email, str password_hash,
    /// flags flags, time created_at, time updated_at, opt<time> last_login, u32 failed_logins,
    /// opt<time> locked_until`.
    public func encodeExport(into w: inout WireWriter) {
        w.i64(id)
        w.raw(uuid?.bytes ?? [UInt8](repeating: 0, count: 16))
        w.string(username)
        w.optionalString(email)
        w.string(passwordHash)
        w.u8(flags.rawValue)
        w.i64(createdAt ?? 0)
        w.i64(updatedAt ?? 0)
        w.optionalI64(lastLogin)
        w.u32(failedLogins)
        w.optionalI64(lockedUntil)
    }

    public static func decodeExport(from r: inout WireReader) throws(WireDecodeError) -> UserDataRecord {
        let id = try r.i64("id")
        let uuid = WireUUID(bytes: try r.bytes(16, "uuid"))
        return UserDataRecord(
            id: id, uuid: uuid, username: try r.string("username"), email: try r.optionalString("email"),
            passwordHash: try r.string("password_hash"), flags: try decodeFlags(&r),
            createdAt: try r.i64("created_at"), updatedAt: try r.i64("updated_at"),
            lastLogin: try r.optionalI64("last_login"), failedLogins: try r.u32("failed_logins"),
            lockedUntil: try r.optionalI64("locked_until"))
    }

    /// `import_user`: `opt<uuid> uuid, str username, opt<str> email, str password_hash,
    /// flags flags, opt<time> created_at, opt<time> updated_at, opt<time> last_login,
    /// u32 failed_logins, opt<time> locked_until`.
    public func encodeImport(into w: inout WireWriter) {
        if let uuid {
            w.u8(1)
            w.raw(uuid.bytes)
        } else {
            w.u8(0)
        }
        w.string(username)
        w.optionalString(email)
        w.string(passwordHash)
        w.u8(flags.rawValue)
        w.optionalI64(createdAt)
        w.optionalI64(updatedAt)
        w.optionalI64(lastLogin)
        w.u32(failedLogins)
        w.optionalI64(lockedUntil)
    }

    public static func decodeImport(from r: inout WireReader) throws(WireDecodeError) -> UserDataRecord {
        let uuid = try r.bool("has_uuid") ? WireUUID(bytes: try r.bytes(16, "uuid")) : nil
        return UserDataRecord(
            uuid: uuid, username: try r.string("username"), email: try r.optionalString("email"),
            passwordHash: try r.string("password_hash"), flags: try decodeFlags(&r),
            createdAt: try r.optionalI64("created_at"), updatedAt: try r.optionalI64("updated_at"),
            lastLogin: try r.optionalI64("last_login"), failedLogins: try r.u32("failed_logins"),
            lockedUntil: try r.optionalI64("locked_until"))
    }

    static func decodeFlags(_ r: inout WireReader) throws(WireDecodeError) -> AccountFlags {
        let raw = try r.u8("flags")
        guard raw & ~AccountFlags.all.rawValue == 0 else { throw WireDecodeError("unknown flag bits") }
        return AccountFlags(rawValue: raw)
    }
}

/// One record an import refused: its index among the records sent (from 0),
/// a status saying why (`invalid input`, `username taken`, `email taken`) and a reason.
public struct ImportProblemRecord: Hashable, Sendable {
    public var index: UInt32
    public var status: Status
    public var reason: String
    public init(index: UInt32, status: Status, reason: String) {
        self.index = index
        self.status = status
        self.reason = reason
    }
}

/// What `import_commit` answers.
public struct ImportReport: Hashable, Sendable {
    public var created: UInt32
    public var updated: UInt32
    public var skipped: UInt32
    /// False for a dry run, or when a problem stopped the import (then nothing was written).
    public var written: Bool
    public var problems: [ImportProblemRecord]
    public init(created: UInt32, updated: UInt32, skipped: UInt32, written: Bool, problems: [ImportProblemRecord]) {
        self.created = created
        self.updated = updated
        self.skipped = skipped
        self.written = written
        self.problems = problems
    }
}

/// The requests of opcodes 0x50-0x56.
public enum DataRequest: Sendable {
    /// 0x50: takes a consistent snapshot of the database, held by the daemon until `backupEnd`.
    case backupBegin
    /// 0x51: up to `maxBytes` (1...65536) of the snapshot from `offset`.
    case backupRead(backupID: UInt32, offset: Int64, maxBytes: UInt32)
    /// 0x52: forgets the snapshot.
    case backupEnd(backupID: UInt32)
    /// 0x53: up to `limit` (1...1000) users with an id above `afterID`, by id, hashes included.
    case exportUsers(afterID: Int64, limit: UInt32)
    /// 0x54: starts staging an import.  `onConflict`: 0 skip, 1 update, 2 fail.
    case importBegin(onConflict: UInt8, dryRun: Bool)
    /// 0x55: adds records to a staged import.
    case importAdd(importID: UInt32, users: [UserDataRecord])
    /// 0x56: checks and writes a staged import in one transaction, and forgets it.
    case importCommit(importID: UInt32)

    public var opcode: Opcode {
        switch self {
        case .backupBegin: return .backupBegin
        case .backupRead: return .backupRead
        case .backupEnd: return .backupEnd
        case .exportUsers: return .exportUsers
        case .importBegin: return .importBegin
        case .importAdd: return .importAdd
        case .importCommit: return .importCommit
        }
    }

    public func encodeBody(into w: inout WireWriter) {
        switch self {
        case .backupBegin:
            break
        case .backupRead(let id, let offset, let maxBytes):
            w.u32(id)
            w.i64(offset)
            w.u32(maxBytes)
        case .backupEnd(let id), .importCommit(let id):
            w.u32(id)
        case .exportUsers(let afterID, let limit):
            w.i64(afterID)
            w.u32(limit)
        case .importBegin(let onConflict, let dryRun):
            w.u8(onConflict)
            w.bool(dryRun)
        case .importAdd(let id, let users):
            w.u32(id)
            w.u32(UInt32(users.count))
            for u in users { u.encodeImport(into: &w) }
        }
    }

    public static func decodeBody(_ opcode: Opcode, from r: inout WireReader) throws(WireDecodeError)
        -> DataRequest
    {
        switch opcode {
        case .backupBegin:
            return .backupBegin
        case .backupRead:
            return .backupRead(
                backupID: try r.u32("backup_id"), offset: try r.i64("offset"), maxBytes: try r.u32("max_bytes"))
        case .backupEnd:
            return .backupEnd(backupID: try r.u32("backup_id"))
        case .exportUsers:
            return .exportUsers(afterID: try r.i64("after_id"), limit: try r.u32("limit"))
        case .importBegin:
            let policy = try r.u8("on_conflict")
            guard policy <= 2 else { throw WireDecodeError("unknown on_conflict \(policy)") }
            return .importBegin(onConflict: policy, dryRun: try r.bool("dry_run"))
        case .importAdd:
            let id = try r.u32("import_id")
            let n = try r.u32("count")
            var users: [UserDataRecord] = []
            for _ in 0..<n { users.append(try UserDataRecord.decodeImport(from: &r)) }
            return .importAdd(importID: id, users: users)
        case .importCommit:
            return .importCommit(importID: try r.u32("import_id"))
        default:
            throw WireDecodeError("\(opcode) is not a data operation")
        }
    }
}

/// The `ok` replies of opcodes 0x50-0x56.
public enum DataReply: Sendable {
    /// backup_begin: `u32 backup_id, i64 size, u32 users`.
    case backupStarted(backupID: UInt32, size: Int64, users: UInt32)
    /// backup_read: `u32 n, n bytes` (fewer than asked only at the end).
    case chunk([UInt8])
    /// backup_end, import_begin's id is `importStarted`: backup_end has an empty body.
    case done
    /// export_users: `u32 n, n × export_user`.
    case exported([UserDataRecord])
    /// import_begin: `u32 import_id`.
    case importStarted(importID: UInt32)
    /// import_add: `u32 staged` (records staged so far).
    case importStaged(total: UInt32)
    /// import_commit: `u32 created, u32 updated, u32 skipped, bool written, u32 n,
    /// n × (u32 index, u16 status, str reason)`.
    case imported(ImportReport)

    public func encodeBody(into w: inout WireWriter) {
        switch self {
        case .backupStarted(let id, let size, let users):
            w.u32(id)
            w.i64(size)
            w.u32(users)
        case .chunk(let bytes):
            w.u32(UInt32(bytes.count))
            w.raw(bytes)
        case .done:
            break
        case .exported(let users):
            w.u32(UInt32(users.count))
            for u in users { u.encodeExport(into: &w) }
        case .importStarted(let id):
            w.u32(id)
        case .importStaged(let total):
            w.u32(total)
        case .imported(let report):
            w.u32(report.created)
            w.u32(report.updated)
            w.u32(report.skipped)
            w.bool(report.written)
            w.u32(UInt32(report.problems.count))
            for p in report.problems {
                w.u32(p.index)
                w.u16(p.status.rawValue)
                w.string(p.reason)
            }
        }
    }

    public static func decodeBody(_ opcode: Opcode, from r: inout WireReader) throws(WireDecodeError) -> DataReply {
        switch opcode {
        case .backupBegin:
            return .backupStarted(backupID: try r.u32("backup_id"), size: try r.i64("size"), users: try r.u32("users"))
        case .backupRead:
            let n = Int(try r.u32("length"))
            return .chunk(try r.bytes(n, "data"))
        case .backupEnd:
            return .done
        case .exportUsers:
            let n = try r.u32("count")
            var users: [UserDataRecord] = []
            for _ in 0..<n { users.append(try UserDataRecord.decodeExport(from: &r)) }
            return .exported(users)
        case .importBegin:
            return .importStarted(importID: try r.u32("import_id"))
        case .importAdd:
            return .importStaged(total: try r.u32("staged"))
        case .importCommit:
            let created = try r.u32("created")
            let updated = try r.u32("updated")
            let skipped = try r.u32("skipped")
            let written = try r.bool("written")
            let n = try r.u32("count")
            var problems: [ImportProblemRecord] = []
            for _ in 0..<n {
                problems.append(
                    ImportProblemRecord(
                        index: try r.u32("index"), status: Status(rawValue: try r.u16("status")),
                        reason: try r.string("reason")))
            }
            return .imported(
                ImportReport(created: created, updated: updated, skipped: skipped, written: written, problems: problems)
            )
        default:
            throw WireDecodeError("\(opcode) is not a data operation")
        }
    }
}
