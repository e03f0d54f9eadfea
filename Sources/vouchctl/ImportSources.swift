import Foundation
import VouchProtocol

/// Users read from a file, each with where it came from (for messages),
/// and the lines that could not be read.
struct ImportSource {
    var records: [UserDataRecord] = []
    /// `locations[i]` names where `records[i]` came from, e.g. "line 7".
    var locations: [String] = []
    /// Lines or rows that could not be read, with the reason.
    var problems: [(location: String, reason: String)] = []
    /// Entries left out on purpose (not problems: the import goes on), with the reason.
    var skipped: [(location: String, reason: String)] = []

    mutating func add(_ record: UserDataRecord, at location: String) {
        records.append(record)
        locations.append(location)
    }
}

/// The vouch JSON Lines format (docs/DATA.md): one user per line.
enum UserLines {
    static let fields: Set<String> = [
        "id", "uuid", "username", "email", "password_hash", "active", "admin", "superuser", "verified",
        "created_at", "updated_at", "last_login", "failed_logins", "locked_until",
    ]

    /// One line of the export, by Foundation's `JSONEncoder` (keys sorted;
    /// absent values are null).
    static func line(_ u: UserDataRecord) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Strings, integers and booleans only: encoding cannot fail.
        return (try? encoder.encode(ExportLine(user: u))).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    private struct ExportLine: Encodable {
        let user: UserDataRecord

        enum Key: String, CodingKey {
            case id, uuid, username, email, active, admin, superuser, verified
            case passwordHash = "password_hash"
            case createdAt = "created_at"
            case updatedAt = "updated_at"
            case lastLogin = "last_login"
            case failedLogins = "failed_logins"
            case lockedUntil = "locked_until"
        }

        func encode(to encoder: any Encoder) throws {
            let u = user
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(u.id, forKey: .id)
            try c.encode(u.uuid?.description, forKey: .uuid)
            try c.encode(u.username, forKey: .username)
            try c.encode(u.email, forKey: .email)
            try c.encode(u.passwordHash, forKey: .passwordHash)
            try c.encode(u.flags.contains(.active), forKey: .active)
            try c.encode(u.flags.contains(.admin), forKey: .admin)
            try c.encode(u.flags.contains(.superuser), forKey: .superuser)
            try c.encode(u.flags.contains(.verified), forKey: .verified)
            try c.encode(u.createdAt, forKey: .createdAt)
            try c.encode(u.updatedAt, forKey: .updatedAt)
            try c.encode(u.lastLogin, forKey: .lastLogin)
            try c.encode(u.failedLogins, forKey: .failedLogins)
            try c.encode(u.lockedUntil, forKey: .lockedUntil)
        }
    }

    static func parse(_ text: String) -> ImportSource {
        var source = ImportSource()
        var lineNumber = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            let location = "line \(lineNumber)"
            do {
                source.add(try record(line), at: location)
            } catch let error as LineError {
                source.problems.append((location, error.reason))
            } catch {
                source.problems.append((location, "\(error)"))
            }
        }
        return source
    }

    struct LineError: Error {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }

    static func record(_ line: String) throws -> UserDataRecord {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) else {
            throw LineError("not valid JSON")
        }
        guard let o = object as? [String: Any] else { throw LineError("not a JSON object") }
        if let unknown = o.keys.sorted().first(where: { !fields.contains($0) }) {
            throw LineError("unknown field \"\(unknown)\"")
        }
        func isNull(_ key: String) -> Bool { o[key] == nil || o[key] is NSNull }
        func string(_ key: String) throws -> String? {
            if isNull(key) { return nil }
            guard let s = o[key] as? String else { throw LineError("field \"\(key)\" must be a string") }
            return s
        }
        func bool(_ key: String, _ fallback: Bool) throws -> Bool {
            if isNull(key) { return fallback }
            guard let n = o[key] as? NSNumber, let b = Bool(exactly: n) else {
                throw LineError("field \"\(key)\" must be true or false")
            }
            return b
        }
        func int(_ key: String) throws -> Int64? {
            if isNull(key) { return nil }
            guard let n = o[key] as? NSNumber, Double(n.int64Value) == n.doubleValue else {
                let what = key == "failed_logins" ? "an integer" : "an integer (Unix time in milliseconds)"
                throw LineError("field \"\(key)\" must be \(what)")
            }
            return n.int64Value
        }
        guard let username = try string("username") else { throw LineError("missing field \"username\"") }
        guard let hash = try string("password_hash") else { throw LineError("missing field \"password_hash\"") }
        var uuid: WireUUID?
        if let text = try string("uuid") {
            guard let parsed = WireUUID(string: text) else { throw LineError("field \"uuid\" is not a uuid") }
            uuid = parsed
        }
        var flags: AccountFlags = []
        if try bool("active", true) { flags.insert(.active) }
        if try bool("admin", false) { flags.insert(.admin) }
        if try bool("superuser", false) { flags.insert(.superuser) }
        if try bool("verified", false) { flags.insert(.verified) }
        let failed = try int("failed_logins") ?? 0
        guard let failedLogins = UInt32(exactly: failed) else {
            throw LineError("field \"failed_logins\" is out of range")
        }
        return UserDataRecord(
            uuid: uuid, username: username, email: try string("email"), passwordHash: hash, flags: flags,
            createdAt: try int("created_at"), updatedAt: try int("updated_at"), lastLogin: try int("last_login"),
            failedLogins: failedLogins, lockedUntil: try int("locked_until"))
    }
}

/// Readers of other programs' user stores.
enum Converters {
    /// Piccolo's `piccolo_user` table (piccolo.apps.user): `pbkdf2_sha256$...` hashes.
    static func piccolo(_ path: String) throws -> ImportSource {
        let db = try SQLiteReader(path: path)
        let columns = try db.columns(of: "piccolo_user")
        guard columns.contains("username"), columns.contains("password") else {
            throw CLIFailure.refused("\(path): no piccolo_user table with username and password columns")
        }
        func column(_ name: String) -> String { columns.contains(name) ? "\"\(name)\"" : "NULL" }
        let order = columns.contains("id") ? "id" : "rowid"
        let rows = try db.rows(
            """
            SELECT username, \(column("email")), password, \(column("active")), \(column("admin")),
                \(column("superuser")), \(column("last_login")) FROM piccolo_user ORDER BY \(order)
            """)
        var source = ImportSource()
        for (i, row) in rows.enumerated() {
            let location = "row \(i + 1)" + (row[0].text.map { " (\($0))" } ?? "")
            guard let username = row[0].text, let hash = row[2].text else {
                source.problems.append((location, "no username or password"))
                continue
            }
            var flags: AccountFlags = []
            if row[3].bool ?? true { flags.insert(.active) }
            if row[4].bool ?? false { flags.insert(.admin) }
            if row[5].bool ?? false { flags.insert(.superuser) }
            let email = row[1].text.flatMap { $0.isEmpty ? nil : $0 }
            source.add(
                UserDataRecord(
                    username: username, email: email, passwordHash: hash, flags: flags,
                    lastLogin: row[6].text.flatMap(Timestamps.millis)),
                at: location)
        }
        return source
    }

    /// FastAPI Users' SQLAlchemy `user` table: uuid ids, argon2 or bcrypt
    /// hashes; the email is the username.
    static func fastAPIUsers(_ path: String) throws -> ImportSource {
        let db = try SQLiteReader(path: path)
        let columns = try db.columns(of: "user")
        guard columns.contains("email"), columns.contains("hashed_password") else {
            throw CLIFailure.refused("\(path): no user table with email and hashed_password columns")
        }
        func column(_ name: String) -> String { columns.contains(name) ? "\"\(name)\"" : "NULL" }
        let rows = try db.rows(
            """
            SELECT \(column("id")), email, hashed_password, \(column("is_active")), \(column("is_superuser")),
                \(column("is_verified")) FROM "user" ORDER BY rowid
            """)
        var source = ImportSource()
        for (i, row) in rows.enumerated() {
            let location = "row \(i + 1)" + (row[1].text.map { " (\($0))" } ?? "")
            guard let email = row[1].text, let hash = row[2].text else {
                source.problems.append((location, "no email or hashed_password"))
                continue
            }
            var uuid: WireUUID?
            switch row[0] {
            case .blob(let bytes) where bytes.count == 16: uuid = WireUUID(bytes: bytes)
            case .text(let text): uuid = WireUUID(string: Self.dashedUUID(text))
            default: break
            }
            var flags: AccountFlags = []
            if row[3].bool ?? true { flags.insert(.active) }
            if row[4].bool ?? false { flags.insert(.superuser) }
            if row[5].bool ?? false { flags.insert(.verified) }
            source.add(
                UserDataRecord(uuid: uuid, username: email, email: email, passwordHash: hash, flags: flags),
                at: location)
        }
        return source
    }

    /// 32 hex digits (SQLAlchemy's GUID on SQLite may drop the dashes) as 8-4-4-4-12.
    static func dashedUUID(_ text: String) -> String {
        let hex = Array(text)
        guard hex.count == 32, !text.contains("-") else { return text }
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(hex[$0]) }.joined(separator: "-")
    }

    /// /etc/shadow lines: `name:hash:...`.  Only the entries `accounts`
    /// takes (regular users, unless --all); an entry whose password is locked
    /// or disabled (`!`, `*`, empty) is skipped: it could not log in.  Both
    /// kinds of skipped entries are reported.
    static func shadow(_ text: String, accounts: ShadowAccounts) -> ImportSource {
        var source = ImportSource()
        var lineNumber = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            let location = "line \(lineNumber)"
            guard fields.count >= 2, !fields[0].isEmpty else {
                source.problems.append((location, "not a shadow entry (name:hash:...)"))
                continue
            }
            let name = String(fields[0])
            if let reason = accounts.skipReason(name) {
                source.skipped.append(("\(location) (\(name))", reason))
                continue
            }
            let hash = String(fields[1])
            if hash.isEmpty || hash.hasPrefix("!") || hash.hasPrefix("*") {
                source.skipped.append(
                    ("\(location) (\(name))", "the password is locked or disabled ('!', '*' or empty)"))
                continue
            }
            // Days since 1970 of the last password change.
            let changed = fields.count > 2 ? Int64(fields[2]).map { $0 * 86_400_000 } : nil
            source.add(
                UserDataRecord(
                    username: name, passwordHash: hash, flags: .active, createdAt: nil, updatedAt: changed),
                at: "\(location) (\(name))")
        }
        return source
    }
}

enum Timestamps {
    /// "2024-05-01 12:30:00[.123456][+00:00]" or with a "T": Unix milliseconds (UTC when no offset).
    static func millis(_ text: String) -> Int64? {
        let s = text.replacingOccurrences(of: "T", with: " ")
        let scanner = Scanner(string: s)
        guard let y = scanner.scanInt(), scanner.scanString("-") != nil, let mo = scanner.scanInt(),
            scanner.scanString("-") != nil, let d = scanner.scanInt()
        else { return nil }
        var h = 0
        var mi = 0
        var sec = 0.0
        if let hh = scanner.scanInt(), scanner.scanString(":") != nil, let mm = scanner.scanInt() {
            h = hh
            mi = mm
            if scanner.scanString(":") != nil { sec = scanner.scanDouble() ?? 0 }
        }
        var offset = 0
        if let sign = scanner.scanCharacters(from: CharacterSet(charactersIn: "+-")),
            let oh = scanner.scanInt(), scanner.scanString(":") != nil, let om = scanner.scanInt()
        {
            offset = (oh * 60 + om) * 60 * (sign == "-" ? -1 : 1)
        }
        var components = DateComponents()
        components.year = y
        components.month = mo
        components.day = d
        components.hour = h
        components.minute = mi
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        guard let date = calendar.date(from: components) else { return nil }
        return Int64(((date.timeIntervalSince1970 + sec - Double(offset)) * 1000).rounded())
    }
}
