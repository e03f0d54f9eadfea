import ArgumentParser
import Foundation
import VouchClient
import VouchProtocol

/// `vouchctl user export`: every user as JSON Lines, password hashes included.
struct ExportUsers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every user, password hash included, as JSON Lines (admin; see docs/DATA.md).")
    @OptionGroup var global: GlobalOptions
    @Option(
        help:
            "Write to FILE instead of standard output: a new file (mode 0600), or one of yours to replace (its mode becomes 0600)."
    ) var output: String?

    func run() async throws {
        var fd: Int32 = 1
        if let output { fd = try Self.openOutput(output) }
        defer { if output != nil { close(fd) } }
        let client = try await global.connect()
        defer { Task { await client.close() } }
        var after: Int64 = 0
        var count = 0
        while true {
            let page = try await call { () async throws(VouchClientError) in
                try await client.exportUsers(afterID: after, limit: 500)
            }
            if page.isEmpty { break }
            let text = page.map { UserLines.line($0) + "\n" }.joined()
            try BackupCommand.writeAll(fd, Array(text.utf8), path: output ?? "standard output")
            count += page.count
            after = page.last!.id
        }
        if let output {
            guard fsync(fd) == 0 else { throw CLIFailure.refused("cannot sync \(output)") }
            FileHandle.standardError.write(Data("Exported \(count) users to \(output)\n".utf8))
        }
    }
}

extension ExportUsers {
    /// Opens `path` for the hashes: created new (O_EXCL, 0600), or, when it
    /// exists, only a regular file the caller owns with one link (never one
    /// another user made beforehand to receive them), made 0600 and emptied.
    static func openOutput(_ path: String) throws -> Int32 {
        let created = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if created >= 0 { return created }
        guard errno == EEXIST else {
            throw CLIFailure.refused("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        let fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { throw CLIFailure.refused("cannot open \(path): \(String(cString: strerror(errno)))") }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_uid == geteuid(), st.st_nlink == 1 else {
            close(fd)
            throw CLIFailure.refused(
                "\(path) exists and is not a regular file of yours; refusing to write password hashes into it (remove it or choose a new name)"
            )
        }
        guard fchmod(fd, 0o600) == 0, ftruncate(fd, 0) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw CLIFailure.refused("cannot replace \(path): \(reason)")
        }
        return fd
    }
}

/// `vouchctl user import FILE`: all or nothing, in one transaction.
struct ImportUsers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import users from JSON Lines, Piccolo, FastAPI Users or /etc/shadow (admin; see docs/DATA.md).",
        discussion: """
            Hashes are kept as they are and upgraded to argon2id at each user's next login. \
            Every bad line is reported with its line number; nothing is imported unless every \
            line is good (one transaction). From shadow: only regular users (uid between UID_MIN \
            and UID_MAX of /etc/login.defs, looked up in /etc/passwd) unless --all; entries with a \
            locked or disabled password ('!', '*') are skipped; every skipped entry is reported.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The file: JSON Lines (- for standard input), a SQLite database, or a shadow file.")
    var file: String
    @Option(help: "vouch (JSON Lines, the default), piccolo, fastapi-users or shadow.") var from: String = "vouch"
    @Option(help: "For an existing username: skip, update or fail (import nothing).") var onConflict: String = "fail"
    @Flag(help: "Check everything and report what would happen; change nothing.") var dryRun = false
    @Flag(help: "From shadow: every entry, system accounts too (default: UID_MIN..UID_MAX only).") var all = false
    @Option(help: "From shadow: the passwd file giving each account's uid.") var passwd = "/etc/passwd"
    @Option(help: "From shadow: the file giving UID_MIN and UID_MAX.") var loginDefs = "/etc/login.defs"

    func validate() throws {
        guard ["vouch", "piccolo", "fastapi-users", "shadow"].contains(from) else {
            throw ValidationError("--from must be one of vouch, piccolo, fastapi-users, shadow")
        }
        if from != "shadow", all || passwd != "/etc/passwd" || loginDefs != "/etc/login.defs" {
            throw ValidationError("--all, --passwd and --login-defs apply only to --from shadow")
        }
        guard Self.policy(onConflict) != nil else {
            throw ValidationError("--on-conflict must be one of skip, update, fail")
        }
    }

    static func policy(_ text: String) -> UInt8? {
        switch text {
        case "skip": return 0
        case "update": return 1
        case "fail": return 2
        default: return nil
        }
    }

    func readText() throws -> String {
        if file == "-" {
            return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CLIFailure.refused("cannot read \(file)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    func run() async throws {
        let source: ImportSource
        switch from {
        case "piccolo": source = try Converters.piccolo(file)
        case "fastapi-users": source = try Converters.fastAPIUsers(file)
        case "shadow":
            source = Converters.shadow(
                try readText(), accounts: try ShadowAccounts.load(passwd: passwd, loginDefs: loginDefs, all: all))
        default: source = UserLines.parse(try readText())
        }
        let client = try await global.connect()
        defer { Task { await client.close() } }
        // Lines that did not parse stop the import, but the daemon still checks the others.
        let checkOnly = dryRun || !source.problems.isEmpty
        let policy = Self.policy(onConflict)!
        let id = try await call { () async throws(VouchClientError) in
            try await client.importBegin(onConflict: policy, dryRun: checkOnly)
        }
        for batch in Self.batches(source.records) {
            _ = try await call { () async throws(VouchClientError) in try await client.importAdd(id: id, users: batch) }
        }
        let report = try await call { () async throws(VouchClientError) in try await client.importCommit(id: id) }

        var problems = source.problems
        for p in report.problems {
            let index = Int(p.index)
            problems.append(
                (index < source.locations.count ? source.locations[index] : "record \(index + 1)", p.reason))
        }
        for p in problems.sorted(by: { Self.order($0.location) < Self.order($1.location) }) {
            FileHandle.standardError.write(Data("\(file): \(p.location): \(p.reason)\n".utf8))
        }
        for s in source.skipped {
            FileHandle.standardError.write(Data("\(file): \(s.location): skipped: \(s.reason)\n".utf8))
        }
        var counts = "\(report.created) created, \(report.updated) updated, \(report.skipped) skipped"
        if !source.skipped.isEmpty { counts += "; \(source.skipped.count) entries of the file left out" }
        if !problems.isEmpty {
            throw CLIFailure.refused(
                "Nothing imported: \(problems.count) problem\(problems.count == 1 ? "" : "s") (otherwise: \(counts))")
        }
        print(report.written ? "Imported: \(counts)" : "Dry run, nothing changed: would be \(counts)")
    }

    /// Sorts "line 12" after "line 9".
    static func order(_ location: String) -> Int {
        Int(location.split(separator: " ").dropFirst().first ?? "") ?? Int.max
    }

    /// Batches that fit well inside the daemon's default frame cap (64 KiB).
    static func batches(_ records: [UserDataRecord]) -> [[UserDataRecord]] {
        var out: [[UserDataRecord]] = []
        var current: [UserDataRecord] = []
        var size = 0
        for r in records {
            var w = WireWriter()
            r.encodeImport(into: &w)
            if !current.isEmpty, size + w.bytes.count > 48 * 1024 || current.count >= 500 {
                out.append(current)
                current = []
                size = 0
            }
            current.append(r)
            size += w.bytes.count
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}
