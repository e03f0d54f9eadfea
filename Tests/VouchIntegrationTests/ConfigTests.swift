import Foundation
import Testing
import VouchCore

/// `vouchd --check-config` and configuration errors: one line naming the
/// file (and the line and key), exit status non-zero.
@Suite struct ConfigTests {
    @Test func checkConfigPrintsEveryKeyAndExitsZero() async throws {
        let daemon = try await TestDaemon(config: ["password_min_length = 12"], start: false)
        let r = try daemon.vouchdCommand(["--check-config", "--config", daemon.configPath])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.out.split(separator: "\n").map(String.init)
        #expect(lines.first == "# effective configuration from \(daemon.configPath)")
        var values: [String: String] = [:]
        for line in lines.dropFirst() {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            try #require(parts.count == 2, "\(line)")
            values[parts[0]] = parts[1]
        }
        #expect(Set(values.keys) == Set(ConfigLoader.keyNames))
        #expect(values.count == ConfigLoader.keyNames.count)
        #expect(values["socket_path"] == daemon.socketPath)
        #expect(values["database_path"] == daemon.databasePath)
        #expect(values["password_min_length"] == "12")
        #expect(values["argon2_memory_kib"] == "1024")
        #expect(values["socket_mode"] == "0666")
        #expect(values["admin_group"] == "none")
        // It only checks: no socket, no database.
        #expect(!FileManager.default.fileExists(atPath: daemon.socketPath))
        #expect(!FileManager.default.fileExists(atPath: daemon.databasePath))

        // Command-line overrides show in the effective configuration.
        let overridden = try daemon.vouchdCommand([
            "--check-config", "--config", daemon.configPath, "--socket", "/tmp/elsewhere.sock", "--log-level", "error",
        ])
        #expect(overridden.status == 0)
        #expect(overridden.stdout.contains("socket_path = /tmp/elsewhere.sock\n"))
        #expect(overridden.stdout.contains("log_level = error\n"))

        // Its output is itself a valid configuration.
        let rendered = daemon.directory + "/rendered.conf"
        try lines.dropFirst().joined(separator: "\n").write(toFile: rendered, atomically: true, encoding: .utf8)
        chmod(rendered, 0o644)
        let reread = try daemon.vouchdCommand(["--check-config", "--config", rendered])
        #expect(reread.status == 0, "\(reread.stderr)")
        #expect(reread.out.split(separator: "\n").dropFirst().map(String.init) == Array(lines.dropFirst()))
    }

    /// Writes a config file and runs `vouchd` (serve) and `vouchd --check-config` on it.
    func expectRefused(
        _ lines: [String], naming expected: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let daemon = try await TestDaemon(start: false)
        try (lines.joined(separator: "\n") + "\n").write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        chmod(daemon.configPath, 0o644)
        for args in [["--check-config"], ["--log-to", "stderr"], ["migrate"]] {
            let r = try daemon.vouchdCommand(
                (args.first == "migrate"
                    ? args + ["--config", daemon.configPath] : ["--config", daemon.configPath] + args))
            #expect(r.status != 0, "\(args)", sourceLocation: sourceLocation)
            #expect(r.out.isEmpty, "\(args): \(r.stdout)", sourceLocation: sourceLocation)
            #expect(
                !r.err.isEmpty && !r.err.contains("\n"), "\(args): not one line: \(r.stderr)",
                sourceLocation: sourceLocation)
            #expect(r.err.contains(daemon.configPath), "\(args): \(r.stderr)", sourceLocation: sourceLocation)
            for text in expected {
                #expect(r.err.contains(text), "\(args): \(r.stderr) lacks \(text)", sourceLocation: sourceLocation)
            }
        }
        #expect(!FileManager.default.fileExists(atPath: daemon.socketPath), sourceLocation: sourceLocation)
        #expect(!FileManager.default.fileExists(atPath: daemon.databasePath), sourceLocation: sourceLocation)
    }

    @Test func aTypoedKeyIsOneLineNamingFileLineAndKey() async throws {
        try await expectRefused(
            ["# comment", "socket_path = /tmp/x.sock", "sockt_mode = 0660"], naming: [":3:", "\"sockt_mode\""])
    }

    @Test func aBadValueIsOneLineNamingFileLineAndKey() async throws {
        try await expectRefused(["argon2_iterations = many"], naming: [":1:", "argon2_iterations", "many"])
        try await expectRefused(["", "log_level = loud"], naming: [":2:", "log_level", "loud"])
        try await expectRefused(["socket_mode = 0999"], naming: [":1:", "socket_mode"])
        try await expectRefused(["max_frame_bytes = 12"], naming: [":1:", "max_frame_bytes"])
        try await expectRefused(["socket_path = relative.sock"], naming: [":1:", "socket_path"])
    }

    @Test func aDuplicateKeyOrAMissingValueIsRefused() async throws {
        try await expectRefused(["log_level = info", "log_level = debug"], naming: [":2:", "duplicate", "log_level"])
        try await expectRefused(["log_level ="], naming: [":1:", "log_level"])
        try await expectRefused(["just words"], naming: [":1:"])
    }

    @Test func aMissingFileIsOneLineNamingIt() async throws {
        let daemon = try await TestDaemon(start: false)
        let missing = daemon.directory + "/absent.conf"
        for args in [
            ["--config", missing, "--check-config"], ["--config", missing], ["migrate", "--config", missing],
        ] {
            let r = try daemon.vouchdCommand(args)
            #expect(r.status != 0, "\(args)")
            #expect(!r.err.isEmpty && !r.err.contains("\n"), "\(args): \(r.stderr)")
            #expect(r.err.contains(missing), "\(args): \(r.stderr)")
        }
    }

    @Test func aWorldWritableConfigIsRefused() async throws {
        let daemon = try await TestDaemon(start: false)
        chmod(daemon.configPath, 0o666)
        let r = try daemon.vouchdCommand(["--config", daemon.configPath, "--check-config"])
        #expect(r.status != 0)
        #expect(r.err.contains(daemon.configPath))
        #expect(!r.err.contains("\n"))
    }

    @Test func badCommandLineValuesAreRefused() async throws {
        let daemon = try await TestDaemon(start: false)
        let level = try daemon.vouchdCommand(["--config", daemon.configPath, "--log-level", "loud"])
        #expect(level.status != 0)
        #expect(level.err.contains("--log-level"))
        let logTo = try daemon.vouchdCommand(["--config", daemon.configPath, "--log-to", "paper"])
        #expect(logTo.status != 0)
        #expect(logTo.err.contains("--log-to"))
        #expect(!FileManager.default.fileExists(atPath: daemon.socketPath))
    }
}
