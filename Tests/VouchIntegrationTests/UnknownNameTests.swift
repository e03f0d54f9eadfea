import Foundation
import Testing
import VouchClient
import VouchProtocol

/// Issue 12 item 12: a password typed as the username must not land in the
/// log, the events table, the database or the `failed_login` hook input.
@Suite struct UnknownNameTests {
    static let typed = "Horse-Battery-Typed-As-Name-7"

    /// Fails a login for `typed` and returns the recorded failure (hook
    /// input and stored event) once both are there.
    func failAsUnknown(_ daemon: TestDaemon, _ hooks: HookDir) async throws -> (
        hook: [String: Any], stored: EventRecord
    ) {
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        let refused = await refusal { () async throws(VouchClientError) in
            try await client.login(username: Self.typed, password: .text("whatever it was 1"))
        }
        #expect(refused.status == .invalidCredentials)
        let hook = try #require(try await hooks.waitForRecorded("failed_login").first)
        let stored = try #require(try await waitForEvents(client, "failed_login", count: 1).first)
        return (hook, stored)
    }

    static func databaseBytes(_ daemon: TestDaemon) -> Data {
        ["", "-wal"].reduce(into: Data()) { all, suffix in
            all += FileManager.default.contents(atPath: daemon.databasePath + suffix) ?? Data()
        }
    }

    @Test func anUnknownNameIsRecordedAsUNKNOWN() async throws {
        let hooks = try HookDir()
        try hooks.installRecorder("failed_login")
        let daemon = try await TestDaemon(config: [hooks.configLine])
        let (hook, stored) = try await failAsUnknown(daemon, hooks)
        #expect(hook["username"] as? String == "UNKNOWN")
        #expect(hook["user"] is NSNull)
        #expect(stored.username == "UNKNOWN")
        #expect(!stored.detail.contains(Self.typed), "\(stored.detail)")
        #expect(!daemon.logText().contains(Self.typed))
        #expect(Self.databaseBytes(daemon).range(of: Data(Self.typed.utf8)) == nil)
    }

    @Test func aKnownNameIsRecordedAsTyped() async throws {
        let hooks = try HookDir()
        try hooks.installRecorder("failed_login")
        let daemon = try await TestDaemon(config: [hooks.configLine])
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        _ = try await daemon.createUser(client, "bob", password: "correct horse 1")
        _ = await refusal { () async throws(VouchClientError) in
            try await client.login(username: "bob", password: .text("wrong horse 1"))
        }
        let hook = try #require(try await hooks.waitForRecorded("failed_login").first)
        #expect((hook["user"] as? [String: Any])?["username"] as? String == "bob")
        #expect(try await waitForEvents(client, "failed_login", count: 1).first?.username == "bob")
    }

    @Test func logUnknownUsernamesRecordsTheTextTyped() async throws {
        let hooks = try HookDir()
        try hooks.installRecorder("failed_login")
        let daemon = try await TestDaemon(config: [hooks.configLine, "log_unknown_usernames = yes"])
        let (hook, stored) = try await failAsUnknown(daemon, hooks)
        #expect(hook["username"] as? String == Self.typed)
        #expect(stored.username == Self.typed)
    }
}
