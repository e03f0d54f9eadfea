import Foundation
import Testing
import VouchClient
import VouchProtocol

/// Issue 11: started with `--socket` / `--database` and sent SIGHUP with an
/// unchanged file, vouchd logged that socket_path and database_path "need a
/// restart": the command line's overrides were compared with the file's
/// values.  A reload compares the effective values.
@Suite struct ReloadOverrideTests {
    func reload(_ daemon: TestDaemon, expectReloads count: Int) async throws {
        let pid = try #require(daemon.process?.processIdentifier)
        kill(pid, SIGHUP)
        let deadline = Date().addingTimeInterval(10)
        while daemon.logText().components(separatedBy: "configuration reloaded").count - 1 < count, Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(daemon.logText().components(separatedBy: "configuration reloaded").count - 1 == count)
    }

    @Test func commandLineOverridesAreNotReportedAsChanges() async throws {
        let daemon = try await TestDaemon(
            config: [
                "socket_path = /nonexistent/file.sock", "database_path = /nonexistent/file.db", "max_connections = 50",
            ],
            start: false)
        try await daemon.start(arguments: [
            "--config", daemon.configPath, "--socket", daemon.socketPath, "--database", daemon.databasePath,
            "--log-level", "debug", "--log-to", "stderr",
        ])
        try await reload(daemon, expectReloads: 1)
        #expect(!daemon.logText().contains("need a restart"), "\(daemon.logText().suffix(1500))")

        // A real change is still reported, and only it.
        try daemon.writeConfig([
            "socket_path = /nonexistent/file.sock", "database_path = /nonexistent/file.db", "max_connections = 7",
        ])
        try await reload(daemon, expectReloads: 2)
        let warning = try #require(daemon.logText().split(separator: "\n").first { $0.contains("need a restart") })
        #expect(warning.contains("max_connections"))
        #expect(!warning.contains("socket_path") && !warning.contains("database_path"), "\(warning)")
        let client = try await daemon.client()
        try await client.ping()
        await client.close()
    }
}
