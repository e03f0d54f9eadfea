import Foundation
import Testing
import VouchClient
import VouchProtocol
import VouchSecrets

/// Session tokens against the real daemon: issue, verify, revoke, and every
/// change that must end them (or must not).
@Suite struct SessionTokenTests {
    static let password = "correct horse 1"
    static let newPassword = "battery staple 2"

    func login(_ client: VouchClient, _ username: String, _ password: String = password, service: String = "")
        async throws -> IssuedToken
    {
        try #require(
            try await client.login(
                username: username, password: .text(password), wantToken: true,
                context: LoginContext(service: service)
            ).token)
    }

    @Test func loginIssuesASessionThatVerifiesUntilLogout() async throws {
        let daemon = try await TestDaemon()
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        let alice = try await daemon.createUser(client, "alice", password: Self.password)

        let before = Int64(Date().timeIntervalSince1970 * 1000)
        let session = try await login(client, "alice", service: "webapp")
        let token = session.token.text
        #expect(token.hasPrefix("vch_") && token.count == 47)
        #expect(
            session.expiresAt >= before + 24 * 3600 * 1000 && session.expiresAt < before + 24 * 3600 * 1000 + 60_000)
        // No token unless asked for.
        #expect(try await client.login(username: "alice", password: .text(Self.password)).token == nil)

        let (owner, expiresAt) = try await client.verifyToken(session.token)
        #expect(owner.id == alice.id)
        #expect(expiresAt == session.expiresAt)
        let list = try await client.tokens(.id(alice.id))
        #expect(list.count == 1)
        #expect(list.first?.label == "webapp")
        #expect(list.first?.expiresAt == session.expiresAt)
        #expect((list.first?.createdAt ?? 0) >= before)
        #expect(list.first?.lastUsed != nil)

        try await client.revokeToken(session.token)
        let after = await refusal { () async throws(VouchClientError) in try await client.verifyToken(session.token) }
        #expect(after.status == .invalidToken)
        let twice = await refusal { () async throws(VouchClientError) in try await client.revokeToken(session.token) }
        #expect(twice.status == .invalidToken)
        #expect(try await client.tokens(.id(alice.id)).isEmpty)
        #expect(daemon.secretsInLog([token, Self.password]).isEmpty)
    }

    @Test func passwordChangesRevokeSessions() async throws {
        let daemon = try await TestDaemon()
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        let alice = try await daemon.createUser(client, "alice", password: Self.password)
        let bob = try await daemon.createUser(client, "bob", password: Self.password)

        let first = try await login(client, "alice")
        let bobs = try await login(client, "bob")
        try await client.changePassword(username: "alice", old: .text(Self.password), new: .text(Self.newPassword))
        #expect(!(await isLiveSession(client, first.token, userId: alice.id)))
        // Other users' sessions are untouched.
        #expect(await isLiveSession(client, bobs.token, userId: bob.id))

        let second = try await login(client, "alice", Self.newPassword)
        try await client.setPassword(.id(alice.id), password: .text(Self.password))
        #expect(!(await isLiveSession(client, second.token, userId: alice.id)))
        #expect(await isLiveSession(client, bobs.token, userId: bob.id))
        #expect(daemon.secretsInLog([first.token.text, second.token.text, bobs.token.text]).isEmpty)
    }

    @Test func sessionsSurvivePasswordChangesWhenConfiguredSo() async throws {
        let daemon = try await TestDaemon(config: ["revoke_sessions_on_password_change = no"])
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        let alice = try await daemon.createUser(client, "alice", password: Self.password)

        let session = try await login(client, "alice")
        try await client.changePassword(username: "alice", old: .text(Self.password), new: .text(Self.newPassword))
        #expect(await isLiveSession(client, session.token, userId: alice.id))
        try await client.setPassword(.id(alice.id), password: .text(Self.password))
        #expect(await isLiveSession(client, session.token, userId: alice.id))
        #expect(daemon.secretsInLog([session.token.text, Self.password, Self.newPassword]).isEmpty)
    }

    @Test func deactivationAndDeletionEndSessionsAndARestartKeepsThem() async throws {
        let daemon = try await TestDaemon()
        var client = try await daemon.client()
        let alice = try await daemon.createUser(client, "alice", password: Self.password)
        let bob = try await daemon.createUser(client, "bob", password: Self.password)
        let carol = try await daemon.createUser(client, "carol", password: Self.password)

        let alices = try await login(client, "alice")
        let bobs = try await login(client, "bob")
        let carols = try await login(client, "carol", service: "imap")

        _ = try await client.updateUser(.id(alice.id), set: .active, to: [])
        #expect(!(await isLiveSession(client, alices.token, userId: alice.id)))
        // Reactivation does not bring the session back.
        _ = try await client.updateUser(.id(alice.id), set: .active, to: .active)
        #expect(!(await isLiveSession(client, alices.token, userId: alice.id)))

        try await client.deleteUser(.id(bob.id))
        let deleted = await refusal { () async throws(VouchClientError) in try await client.verifyToken(bobs.token) }
        #expect(deleted.status == .invalidToken)

        // A restart keeps live sessions (only their digests are stored) and their labels.
        #expect(await isLiveSession(client, carols.token, userId: carol.id))
        await client.close()
        try await daemon.restart()
        client = try await daemon.client()
        #expect(await isLiveSession(client, carols.token, userId: carol.id))
        #expect(!(await isLiveSession(client, alices.token, userId: alice.id)))
        let list = try await client.tokens(.id(carol.id))
        #expect(list.map(\.label) == ["imap"])
        #expect(list.first?.expiresAt == carols.expiresAt)
        await client.close()
        for file in [daemon.databasePath, daemon.databasePath + "-wal"] {
            let data = FileManager.default.contents(atPath: file) ?? Data()
            for token in [alices, bobs, carols] {
                #expect(data.range(of: Data(token.token.text.utf8)) == nil, "a token is stored in the clear in \(file)")
            }
        }
        #expect(daemon.secretsInLog([alices.token.text, bobs.token.text, carols.token.text]).isEmpty)
    }

    @Test func issueListAndRevokeAll() async throws {
        let daemon = try await TestDaemon()
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        let alice = try await daemon.createUser(client, "alice", password: Self.password)
        _ = try await daemon.createUser(client, "ina", password: Self.password, flags: [])

        let issued = try await client.issueToken(.any("alice"), label: "ci runner", ttlSeconds: 3600)
        let login = try await login(client, "alice", service: "sshd")
        let defaultTTL = try await client.issueToken(.any("alice"))
        #expect(try await client.verifyToken(issued.token).user.id == alice.id)

        let list = try await client.tokens(.any("alice"))
        #expect(list.map(\.label) == ["ci runner", "sshd", ""])
        let ci = try #require(list.first)
        #expect(ci.expiresAt == issued.expiresAt)
        #expect(ci.expiresAt - ci.createdAt == 3600 * 1000)
        #expect(ci.lastUsed != nil)
        #expect(list[1].lastUsed == nil)
        #expect(list[2].expiresAt - list[2].createdAt == 24 * 3600 * 1000)

        // Refusals: an inactive user, a lifetime over a year, a label over 100 characters, nobody.
        let inactive = await refusal { () async throws(VouchClientError) in try await client.issueToken(.any("ina")) }
        #expect(inactive.status == .inactive)
        let long = await refusal { () async throws(VouchClientError) in
            try await client.issueToken(.any("alice"), ttlSeconds: 367 * 86400)
        }
        #expect(long.status == .invalidInput)
        let label = await refusal { () async throws(VouchClientError) in
            try await client.issueToken(.any("alice"), label: String(repeating: "x", count: 101))
        }
        #expect(label.status == .invalidInput)
        let nobody = await refusal { () async throws(VouchClientError) in try await client.issueToken(.any("nobody")) }
        #expect(nobody.status == .notFound)

        #expect(try await client.revokeTokens(.any("alice")) == 3)
        for token in [issued, login, defaultTTL] {
            #expect(!(await isLiveSession(client, token.token, userId: alice.id)))
        }
        #expect(try await client.tokens(.any("alice")).isEmpty)
        #expect(try await client.revokeTokens(.any("alice")) == 0)
        #expect(daemon.secretsInLog([issued.token.text, login.token.text, defaultTTL.token.text]).isEmpty)
    }

    @Test func tokensOfOnePurposeNeverWorkAsAnother() async throws {
        let hooks = try HookDir()
        try hooks.installRecorder("forgot_password")
        try hooks.installRecorder("request_verify")
        let daemon = try await TestDaemon(config: [hooks.configLine])
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        let alice = try await daemon.createUser(client, "alice", email: "alice@example.com", password: Self.password)
        var seen = Set<String>()
        let session = try await login(client, "alice")
        try await client.forgotPassword("alice")
        let (reset, _) = try await nextToken(hooks, "forgot_password", seen: &seen)
        try await client.requestVerify(.id(alice.id))
        let (verify, _) = try await nextToken(hooks, "request_verify", seen: &seen)

        // A session token as a reset or verify token.
        #expect(
            await refusal { () async throws(VouchClientError) in
                try await client.resetPassword(token: session.token, password: .text(Self.newPassword))
            }.status == .invalidToken)
        #expect(
            await refusal { () async throws(VouchClientError) in try await client.verifyEmail(token: session.token) }
                .status == .invalidToken)
        // Reset and verify tokens as sessions: neither verifies nor revokes.
        for other in [reset, verify] {
            #expect(
                await refusal { () async throws(VouchClientError) in try await client.verifyToken(.text(other)) }
                    .status == .invalidToken)
            #expect(
                await refusal { () async throws(VouchClientError) in try await client.revokeToken(.text(other)) }
                    .status == .invalidToken)
        }
        // The same random part with another prefix is another token.
        let swapped = "vch_" + reset.dropFirst(4)
        #expect(!(await isLiveSession(client, .text(swapped), userId: alice.id)))
        // All three still work for what they are for.
        #expect(await isLiveSession(client, session.token, userId: alice.id))
        _ = try await client.verifyEmail(token: .text(verify))
        try await client.resetPassword(token: .text(reset), password: .text(Self.newPassword))
        #expect(daemon.secretsInLog([session.token.text, reset, verify, Self.password, Self.newPassword]).isEmpty)
    }
}
