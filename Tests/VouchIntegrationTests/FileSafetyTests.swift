import Foundation
import Testing
import VouchClient

/// The database and socket get restrictive modes whatever the umask, and
/// vouchd refuses a group- or world-writable database or configuration.
@Suite struct FileSafetyTests {
    /// Runs vouchd under umask 000 until it answers a ping.
    static func startUnderZeroUmask(_ daemon: TestDaemon) async throws -> Subprocess {
        let p = Subprocess()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = [
            "-c", "umask 000; exec \"$0\" \"$@\"", Products.vouchd, "--config", daemon.configPath, "--log-to", "stderr",
        ]
        p.standardOutput = FileHandle.nullDevice
        _ = FileManager.default.createFile(atPath: daemon.logPath, contents: nil)
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: daemon.logPath))
        try p.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let client = try? await VouchClient.connect(socketPath: daemon.socketPath, timeout: .seconds(2)) {
                let ok = (try? await client.ping()) != nil
                await client.close()
                if ok { return p }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        p.terminate()
        throw TestError("vouchd did not start: \(daemon.logText())")
    }

    static func mode(_ path: String) -> mode_t? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return st.st_mode & 0o7777
    }

    @Test func databaseIs0600AndSocketGetsExactlySocketModeUnderUmask000() async throws {
        let daemon = try await TestDaemon(start: false)
        let config = try String(contentsOfFile: daemon.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "socket_mode = 0666", with: "socket_mode = 0640")
            .write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        chmod(daemon.configPath, 0o644)
        let p = try await Self.startUnderZeroUmask(daemon)
        defer {
            p.terminate()
            p.waitUntilExit()
        }
        #expect(Self.mode(daemon.databasePath) == 0o600)
        for suffix in ["-wal", "-shm"] {
            if let m = Self.mode(daemon.databasePath + suffix) {
                #expect(m & 0o077 == 0, "\(suffix): \(String(m, radix: 8))")
            }
        }
        #expect(Self.mode(daemon.socketPath) == 0o640)
    }

    /// Runs vouchd (bounded by timeout(1)) and returns its exit status and stderr.
    static func runBounded(_ daemon: TestDaemon) throws -> ProcessResult {
        try runProcess(
            "/usr/bin/timeout", ["10", Products.vouchd, "--config", daemon.configPath, "--log-to", "stderr"])
    }

    @Test(arguments: [0o664, 0o646, 0o666] as [mode_t])
    func groupOrWorldWritableDatabaseIsRefused(mode: mode_t) async throws {
        let daemon = try await TestDaemon()
        daemon.stop()
        chmod(daemon.databasePath, mode)
        let result = try Self.runBounded(daemon)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("group- or world-writable"), "\(result.stderr)")
        #expect(result.stderr.contains(daemon.databasePath))
    }

    @Test(arguments: [0o664, 0o646] as [mode_t])
    func groupOrWorldWritableConfigIsRefused(mode: mode_t) async throws {
        let daemon = try await TestDaemon(start: false)
        chmod(daemon.configPath, mode)
        let result = try Self.runBounded(daemon)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("config file is group- or world-writable"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: daemon.databasePath))
    }

    /// Issue 12 item 9: a database (or its WAL or SHM) readable by group or
    /// others is made owner-only with a warning before anything is served.
    @Test(arguments: [0o644, 0o640, 0o604] as [mode_t])
    func databaseReadableByOthersIsMadeOwnerOnly(mode: mode_t) async throws {
        let daemon = try await TestDaemon()
        _ = try await daemon.createUser("bob", password: "readable db pass 1")
        daemon.stop()
        chmod(daemon.databasePath, mode)
        _ = FileManager.default.createFile(atPath: daemon.databasePath + "-shm", contents: nil)
        chmod(daemon.databasePath + "-shm", mode)
        try await daemon.start()
        #expect(Self.mode(daemon.databasePath) == 0o600)
        for suffix in ["-wal", "-shm"] {
            if let m = Self.mode(daemon.databasePath + suffix) {
                #expect(m & 0o077 == 0, "\(suffix): \(String(m, radix: 8))")
            }
        }
        let log = daemon.logText()
        #expect(log.contains("database file was readable by group or others"), "\(log.suffix(2000))")
        #expect(log.contains(String(mode, radix: 8)), "\(log.suffix(2000))")
        let client = try await daemon.client()
        _ = try await client.login(username: "bob", password: .text("readable db pass 1"))
        await client.close()
    }

    /// Issue 12 item 14: a 0-byte database (a failed copy) is refused, not
    /// initialised as a new empty store; `vouchd migrate` initialises it.
    @Test func emptyDatabaseFileIsRefused() async throws {
        let daemon = try await TestDaemon(start: false)
        _ = FileManager.default.createFile(
            atPath: daemon.databasePath, contents: nil, attributes: [.posixPermissions: 0o600])
        let result = try Self.runBounded(daemon)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("the database is empty (0 bytes)"), "\(result.stderr)")
        #expect(result.stderr.contains(daemon.databasePath))
        #expect(Self.size(daemon.databasePath) == 0)
        let migrated = try runProcess(Products.vouchd, ["migrate", "--config", daemon.configPath])
        #expect(migrated.status == 0, "\(migrated.stderr)")
        try await daemon.start()
    }

    static func size(_ path: String) -> Int64? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Int64(st.st_size)
    }
}
