import Foundation
import Testing
import VouchClient
import VouchProtocol

/// vouchd under systemd's protocols, without a systemd: socket activation
/// with systemd-socket-activate, readiness and watchdog with our own NOTIFY_SOCKET.
@Suite struct SystemdTests {
    @Test func socketActivationAdoptsThePassedSocket() async throws {
        let daemon = try await TestDaemon(start: false)
        let activate = Subprocess()
        activate.executableURL = URL(fileURLWithPath: "/usr/bin/systemd-socket-activate")
        activate.arguments = [
            "-l", daemon.socketPath, Products.vouchd, "--config", daemon.configPath, "--log-to", "stderr",
        ]
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: daemon.logPath))
        activate.standardError = log
        activate.standardOutput = log
        try activate.run()
        defer {
            activate.terminate()
            activate.waitUntilExit()
        }
        // systemd-socket-activate listens first and starts vouchd on the first connection.
        var client: VouchClient?
        for _ in 0..<500 where client == nil {
            client = try? await VouchClient.connect(socketPath: daemon.socketPath, timeout: .seconds(20))
            if client == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        let c = try #require(client)
        try await c.ping()
        let created = try await c.createUser(username: "socketuser", password: .text("activated horse 1"))
        let (loggedIn, _) = try await c.login(username: "socketuser", password: .text("activated horse 1"))
        #expect(loggedIn.id == created.id)
        await c.close()
        #expect(daemon.logText().contains("activated=true"), "vouchd did not adopt the socket: \(daemon.logText())")
    }

    @Test func readinessStatusWatchdogReloadAndStop() async throws {
        let daemon = try await TestDaemon()
        // A user in the database before the notified start.
        let c0 = try await daemon.client()
        _ = try await c0.createUser(username: "early", password: .text("ready horse 1"))
        await c0.close()
        daemon.stop()

        let notify = try NotifySocket(directory: daemon.directory)
        var env = ProcessInfo.processInfo.environment
        env["NOTIFY_SOCKET"] = notify.path
        env["WATCHDOG_USEC"] = "200000"
        env.removeValue(forKey: "WATCHDOG_PID")
        let p = Subprocess()
        p.executableURL = URL(fileURLWithPath: Products.vouchd)
        p.arguments = ["--config", daemon.configPath, "--log-to", "stderr"]
        p.environment = env
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: daemon.logPath))
        p.standardError = log
        p.standardOutput = log
        try p.run()
        defer {
            if p.isRunning {
                p.terminate()
                p.waitUntilExit()
            }
        }

        let ready = try await notify.wait(for: "READY=1") { $0 == "READY=1" }
        // At READY the users are loaded: a login works at once, with no retry.
        let c = try await VouchClient.connect(socketPath: daemon.socketPath, timeout: .seconds(20))
        let (user, _) = try await c.login(username: "early", password: .text("ready horse 1"))
        #expect(user.username == "early")
        let lines = notify.lines
        let statuses = lines.filter { $0.hasPrefix("STATUS=") }
        #expect(statuses.contains { $0.contains("loading users") }, "\(lines)")
        #expect(statuses.contains { $0.contains("serving 1 users") }, "\(lines)")
        // Every STATUS before READY describes start-up, and READY comes after the users were loaded.
        let loadedIndex = try #require(lines.firstIndex { $0.contains("loaded 1 users") })
        #expect(loadedIndex < ready)

        // The watchdog is pinged (at half of WATCHDOG_USEC).
        let ping = try await notify.wait(for: "WATCHDOG=1", after: ready) { $0 == "WATCHDOG=1" }
        try await notify.wait(for: "a second WATCHDOG=1", after: ping) { $0 == "WATCHDOG=1" }

        // SIGHUP: RELOADING=1, then READY=1 again; the connection stays usable.
        kill(p.processIdentifier, SIGHUP)
        let reloading = try await notify.wait(for: "RELOADING=1", after: ready) { $0 == "RELOADING=1" }
        try await notify.wait(for: "READY=1 after reload", after: reloading) { $0 == "READY=1" }
        try await c.ping()
        await c.close()

        // SIGTERM: STOPPING=1, a clean exit, and the socket file removed.
        p.terminate()
        try await notify.wait(for: "STOPPING=1", after: reloading) { $0 == "STOPPING=1" }
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        #expect(!FileManager.default.fileExists(atPath: daemon.socketPath))
    }

    @Test func inFlightRequestFinishesDuringGracefulStop() async throws {
        // A before_delete hook that takes a while keeps a delete in flight.
        let hooks = NSTemporaryDirectory() + "vouch-hooks-\(UUID().uuidString)"
        let hookDir = hooks + "/before_delete"
        try FileManager.default.createDirectory(atPath: hookDir, withIntermediateDirectories: true)
        let marker = hooks + "/started"
        let script = "#!/bin/sh\ntouch \(marker)\nsleep 1\nexit 0\n"
        try script.write(toFile: hookDir + "/slow", atomically: true, encoding: .utf8)
        chmod(hookDir + "/slow", 0o755)
        defer { try? FileManager.default.removeItem(atPath: hooks) }

        let daemon = try await TestDaemon(config: ["hooks_dir = \(hooks)"])
        let c = try await daemon.client()
        _ = try await c.createUser(username: "leaving", password: .text("goodbye horse 1"))
        let deletion = Task { try await c.deleteUser(.username("leaving")) }
        while !FileManager.default.fileExists(atPath: marker) { try await Task.sleep(for: .milliseconds(5)) }
        // The delete is in flight (its hook runs): stop the daemon now.
        daemon.process?.terminate()
        try await deletion.value  // answered ok, not cut off
        daemon.process?.waitUntilExit()
        #expect(daemon.process?.terminationStatus == 0)
        #expect(!FileManager.default.fileExists(atPath: daemon.socketPath))
        try await daemon.start()
        let c2 = try await daemon.client()
        await #expect(throws: VouchClientError.self) { _ = try await c2.user(.username("leaving")) }
        await c2.close()
    }
}
