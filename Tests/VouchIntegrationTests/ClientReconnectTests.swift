import Foundation
import Testing
import VouchClient

/// A long-lived VouchClient (a web app's) outlives idle closes and daemon
/// restarts, and never sends a request twice.
@Suite struct ClientReconnectTests {
    @Test func survivesTheIdleTimeoutAndARestartBetweenTwoCalls() async throws {
        let daemon = try await TestDaemon(config: ["idle_timeout = 4s"])
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        let created = try await client.createUser(username: "bob", password: .text("correct horse 1"))

        try await Task.sleep(for: .milliseconds(6500))  // the daemon closes the idle connection
        let afterIdle = try await client.login(username: "bob", password: .text("correct horse 1"), wantToken: true)
        #expect(afterIdle.user.id == created.id)
        let token = try #require(afterIdle.token)

        try await daemon.restart()
        let owner = try await client.verifyToken(token.token)
        #expect(owner.user.id == created.id)

        try await daemon.restart()
        try await Task.sleep(for: .milliseconds(6500))  // a restart, then an idle spell
        try await client.ping()
    }

    @Test func concurrentCallsAfterARestartShareOneNewConnection() async throws {
        let daemon = try await TestDaemon()
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        _ = try await client.createUser(username: "carol", password: .text("winter songs 9"))
        try await daemon.restart()
        try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 { group.addTask { try await client.user(.username("carol")).username } }
            for try await name in group { #expect(name == "carol") }
        }
    }

    @Test func aRequestTheDaemonMayHaveReceivedIsNotSentAgain() async throws {
        // A costly hash keeps the login in the daemon while it is killed and started again.
        let daemon = try await TestDaemon(config: [
            "argon2_memory_kib = 262144", "argon2_iterations = 6", "worker_threads = 1",
        ])
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        _ = try await client.createUser(username: "dave", password: .text("diving bell 4"))
        let login = Task { try await client.login(username: "dave", password: .text("diving bell 4")) }
        try await Task.sleep(for: .milliseconds(300))
        daemon.kill9()
        try await daemon.start()
        await #expect {
            _ = try await login.value
        } throws: { error in
            (error as? VouchClientError)?.kind == .connectionClosed
        }
        #expect(try await client.user(.username("dave")).lastLogin == nil)  // no login was carried out
    }

    @Test func aClosedClientDoesNotReconnect() async throws {
        let daemon = try await TestDaemon()
        let client = try await daemon.client()
        await client.close()
        await #expect(throws: VouchClientError.self) { try await client.ping() }
    }

    @Test func theDefaultSocketIsVouchSocket() {
        // The process's own environment: set by the test runner or not at all.
        let value = ProcessInfo.processInfo.environment["VOUCH_SOCKET"] ?? ""
        #expect(VouchClient.environmentSocketPath == (value.isEmpty ? VouchClient.defaultSocketPath : value))
    }
}
