import ArgumentParser
import Foundation
import VouchClient
import VouchProtocol

/// `vouchctl backup PATH`: an online, consistent copy of vouchd's database.
///
/// vouchd snapshots the database in memory (SQLite's backup API) and
/// vouchctl reads it in chunks over the socket, so the daemon never writes
/// outside its state directory: vouchctl owns the output file.  The copy is
/// written to a temporary file next to PATH (mode 0600), synced, checked
/// (`PRAGMA integrity_check`, user count) and renamed into place.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Copy vouchd's database to PATH while it keeps serving (admin).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Where to write the copy (a SQLite file, mode 0600).") var path: String
    @Flag(help: "Replace PATH if it exists.") var force = false

    func run() async throws {
        if !force, FileManager.default.fileExists(atPath: path) {
            throw CLIFailure.refused("\(path) exists; use --force to replace it")
        }
        let temporary = path + ".partial-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw CLIFailure.refused("cannot create \(temporary): \(String(cString: strerror(errno)))")
        }
        var finished = false
        defer {
            if fd >= 0 { close(fd) }
            if !finished { unlink(temporary) }
        }
        _ = fchmod(fd, 0o600)
        let client = try await global.connect()
        defer { Task { await client.close() } }
        let backup = try await call { () async throws(VouchClientError) in try await client.backupBegin() }
        var offset: Int64 = 0
        while offset < backup.size {
            let chunk = try await call { () async throws(VouchClientError) in
                try await client.backupRead(id: backup.id, offset: offset)
            }
            guard !chunk.isEmpty else { throw CLIFailure.refused("vouchd ended the backup early at byte \(offset)") }
            try Self.writeAll(fd, chunk, path: temporary)
            offset += Int64(chunk.count)
        }
        try? await call { () async throws(VouchClientError) in try await client.backupEnd(id: backup.id) }
        guard fsync(fd) == 0 else {
            throw CLIFailure.refused("cannot sync \(temporary): \(String(cString: strerror(errno)))")
        }

        // Check the copy before it takes PATH's place.
        let reader = try SQLiteReader(path: temporary)
        let check = try reader.rows("PRAGMA integrity_check").compactMap { $0.first?.text }
        guard check == ["ok"] else {
            throw CLIFailure.refused("the copy fails SQLite's integrity check: \(check.joined(separator: "; "))")
        }
        let count = try reader.rows("SELECT count(*) FROM users").first?.first
        guard case .int(let users) = count, users == Int64(backup.users) else {
            throw CLIFailure.refused("the copy holds an unexpected number of users")
        }
        guard rename(temporary, path) == 0 else {
            throw CLIFailure.refused("cannot rename \(temporary) to \(path): \(String(cString: strerror(errno)))")
        }
        finished = true
        let directory = (path as NSString).deletingLastPathComponent
        let dfd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
        print("Backed up \(backup.users) users (\(backup.size) bytes) to \(path)")
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CLIFailure.refused("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }
}
