import Foundation
import Testing
import VouchClient
import VouchProtocol
import VouchSecrets

/// FastAPI Users' BaseUserManager cases for forgot/reset password and email
/// verification, against the real daemon, with hooks that record what they get.
@Suite struct FlowTests {
    static let password = "correct horse 1"
    static let newPassword = "battery staple 2"

    /// A daemon whose forgot_password, request_verify, verify and reset_password hooks record their input.
    static func daemonWithHooks(_ extra: [String] = []) async throws -> (TestDaemon, HookDir) {
        let hooks = try HookDir()
        for event in ["forgot_password", "request_verify", "verify", "reset_password"] {
            try hooks.installRecorder(event)
        }
        let daemon = try await TestDaemon(config: [hooks.configLine] + extra)
        return (daemon, hooks)
    }

    @Test func forgotPasswordAnswersTheSameForActiveInactiveAndUnknownUsersAndRunsTheHookOnlyForActive()
        async throws
    {
        let (daemon, hooks) = try await Self.daemonWithHooks()
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        let alice = try await daemon.createUser(
            client, "alice", email: "alice@example.com", password: Self.password)
        _ = try await daemon.createUser(client, "ina", email: "ina@example.com", password: Self.password, flags: [])

        // The same (empty, ok) answer in all three cases.
        try await client.forgotPassword("nobody")
        try await client.forgotPassword("ina@example.com")
        try await client.forgotPassword("ina")
        try await client.forgotPassword("ALICE@example.com")

        var seen = Set<String>()
        let (token, doc) = try await nextToken(hooks, "forgot_password", seen: &seen)
        // The three others were looked at and dropped without a token.
        try await waitUntil("three forgot-password misses in the log") {
            daemon.logCount("forgot password: no active user") == 3
        }
        #expect(hooks.recorded("forgot_password").count == 1)

        // The documented JSON (docs/HOOKS.md).
        #expect(doc["event"] as? String == "forgot_password")
        #expect(token.hasPrefix("vrp_") && token.count == 90)
        let time = try #require(doc["time_ms"] as? Int64)
        // Issued (and its lifetime counted) just before the event's time was taken.
        let expires = try #require(doc["token_expires_ms"] as? Int64)
        #expect(expires <= time + 3600 * 1000 && expires > time + 3600 * 1000 - 10_000)
        let user = try #require(doc["user"] as? [String: Any])
        #expect(user["id"] as? Int64 == alice.id)
        #expect(user["uuid"] as? String == alice.uuid.description.lowercased())
        #expect(user["username"] as? String == "alice")
        #expect(user["email"] as? String == "alice@example.com")
        #expect(user["active"] as? Bool == true)
        #expect(user["admin"] as? Bool == false)
        #expect(user["superuser"] as? Bool == false)
        #expect(user["verified"] as? Bool == false)
        let peer = try #require(doc["peer"] as? [String: Any])
        #expect(peer["uid"] as? Int64 == Int64(getuid()))
        #expect(peer["pid"] as? Int64 == Int64(getpid()))

        // The environment: PATH, LANG and VOUCH_EVENT only.
        let env = try #require(hooks.environments("forgot_password").first)
        #expect(
            env.sorted() == [
                "LANG=C.UTF-8", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "VOUCH_EVENT=forgot_password",
            ])

        // The events table has one forgot_password event, for alice, without the token.
        let stored = try await waitForEvents(client, "forgot_password", count: 1)
        #expect(stored.count == 1)
        #expect(stored.first?.userId == alice.id)
        #expect(stored.first?.detail.contains(token) == false)
        #expect(stored.first?.detail.contains("\"token\"") == false)
        #expect(daemon.secretsInLog([token, Self.password]).isEmpty)
    }

    @Test func resetPasswordRefusesBadTokensAndRejectedPasswordsThenResetsOnceAndRevokesSessions() async throws {
        let (daemon, hooks) = try await Self.daemonWithHooks()
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        let alice = try await daemon.createUser(client, "alice", email: "alice@example.com", password: Self.password)
        var seen = Set<String>()
        var secrets = [Self.password, Self.newPassword]

        // A session and a verify token: wrong purpose.
        let session = try #require(
            try await client.login(username: "alice", password: .text(Self.password), wantToken: true).token)
        try await client.requestVerify(.any("alice"))
        let (verifyToken, _) = try await nextToken(hooks, "request_verify", seen: &seen)
        try await client.forgotPassword("alice")
        let (reset, _) = try await nextToken(hooks, "forgot_password", seen: &seen)
        secrets += [session.token.text, verifyToken, reset]

        let forged = "vrp_" + String(repeating: "A", count: 43)
        for bad in [forged, "garbage", "", session.token.text, verifyToken, reset + "x", String(reset.dropLast())] {
            let r = await refusal { () async throws(VouchClientError) in
                try await client.resetPassword(token: .text(bad), password: .text(Self.newPassword))
            }
            #expect(r.status == .invalidToken, "token \(bad.prefix(6))...")
        }
        // A password the policy rejects: the reason, and the token is still good.
        let weak = await refusal { () async throws(VouchClientError) in
            try await client.resetPassword(token: .text(reset), password: .text("short"))
        }
        #expect(weak.status == .passwordRejected)
        #expect(weak.message.lowercased().contains("short"), "\(weak.message)")
        let empty = await refusal { () async throws(VouchClientError) in
            try await client.resetPassword(token: .text(reset), password: .text(""))
        }
        #expect(empty.status == .passwordRejected)
        #expect(!empty.message.isEmpty)
        // The session still works: nothing changed yet.
        #expect(await isLiveSession(client, session.token, userId: alice.id))

        // The happy path.
        try await client.resetPassword(token: .text(reset), password: .text(Self.newPassword))
        let (user, _) = try await client.login(username: "alice", password: .text(Self.newPassword))
        #expect(user.id == alice.id)
        let old = await refusal { () async throws(VouchClientError) in
            try await client.login(username: "alice", password: .text(Self.password))
        }
        #expect(old.status == .invalidCredentials)
        #expect(!(await isLiveSession(client, session.token, userId: alice.id)))
        // Already used.
        let again = await refusal { () async throws(VouchClientError) in
            try await client.resetPassword(token: .text(reset), password: .text("another fine pass 3"))
        }
        #expect(again.status == .invalidToken)
        // The reset_password hook ran, without a token.
        let done = try await hooks.waitForRecorded("reset_password")
        #expect(done.count == 1)
        #expect((done.first?["user"] as? [String: Any])?["id"] as? Int64 == alice.id)
        #expect(done.first?["token"] == nil)
        #expect(daemon.secretsInLog(secrets).isEmpty)
    }

    @Test func aResetTokenIssuedBeforeAPasswordChangeFails() async throws {
        let (daemon, hooks) = try await Self.daemonWithHooks()
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        _ = try await daemon.createUser(client, "alice", password: Self.password)
        var seen = Set<String>()

        // change_password after the token was issued.
        try await client.forgotPassword("alice")
        let (first, _) = try await nextToken(hooks, "forgot_password", seen: &seen)
        try await client.changePassword(username: "alice", old: .text(Self.password), new: .text(Self.newPassword))
        let r1 = await refusal { () async throws(VouchClientError) in
            try await client.resetPassword(token: .text(first), password: .text("third good pass 3"))
        }
        #expect(r1.status == .invalidToken)

        // set_password (admin) after the token was issued.
        try await client.forgotPassword("alice")
        let (second, _) = try await nextToken(hooks, "forgot_password", seen: &seen)
        try await client.setPassword(.any("alice"), password: .text(Self.password))
        let r2 = await refusal { () async throws(VouchClientError) in
            try await client.resetPassword(token: .text(second), password: .text("third good pass 3"))
        }
        #expect(r2.status == .invalidToken)
        // The password is the one set last.
        _ = try await client.login(username: "alice", password: .text(Self.password))

        // Two outstanding tokens: using one voids the other (its password changed).
        try await client.forgotPassword("alice")
        let (third, _) = try await nextToken(hooks, "forgot_password", seen: &seen)
        try await client.forgotPassword("alice")
        let (fourth, _) = try await nextToken(hooks, "forgot_password", seen: &seen)
        try await client.resetPassword(token: .text(fourth), password: .text(Self.newPassword))
        let r3 = await refusal { () async throws(VouchClientError) in
            try await client.resetPassword(token: .text(third), password: .text("third good pass 3"))
        }
        #expect(r3.status == .invalidToken)
        _ = try await client.login(username: "alice", password: .text(Self.newPassword))
        #expect(daemon.secretsInLog([first, second, third, fourth, Self.password, Self.newPassword]).isEmpty)
    }

    @Test func resetForAnInactiveUserIsRefusedAndChangesNothing() async throws {
        let (daemon, hooks) = try await Self.daemonWithHooks()
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        _ = try await daemon.createUser(client, "alice", password: Self.password)
        var seen = Set<String>()
        try await client.forgotPassword("alice")
        let (reset, _) = try await nextToken(hooks, "forgot_password", seen: &seen)
        _ = try await client.updateUser(.any("alice"), set: .active, to: [])

        let r = await refusal { () async throws(VouchClientError) in
            try await client.resetPassword(token: .text(reset), password: .text(Self.newPassword))
        }
        #expect(r.status == .inactive)
        // Still the old password: the right one answers "inactive", not "invalid credentials".
        let login = await refusal { () async throws(VouchClientError) in
            try await client.login(username: "alice", password: .text(Self.password))
        }
        #expect(login.status == .inactive)
        #expect(hooks.recorded("reset_password").isEmpty)
        #expect(daemon.secretsInLog([reset, Self.password, Self.newPassword]).isEmpty)
    }

    @Test func requestVerifyRefusesInactiveVerifiedAndEmaillessUsersAndHandsTheTokenToTheHook() async throws {
        let (daemon, hooks) = try await Self.daemonWithHooks()
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        _ = try await daemon.createUser(client, "ina", email: "ina@example.com", password: Self.password, flags: [])
        _ = try await daemon.createUser(
            client, "vera", email: "vera@example.com", password: Self.password, flags: [.active, .verified])
        _ = try await daemon.createUser(client, "noemail", password: Self.password)
        let alice = try await daemon.createUser(client, "alice", email: "alice@example.com", password: Self.password)

        func status(_ who: String) async -> Status? {
            await refusal { () async throws(VouchClientError) in try await client.requestVerify(.any(who)) }.status
        }
        #expect(await status("ina") == .inactive)
        #expect(await status("vera") == .alreadyVerified)
        #expect(await status("noemail") == .invalidInput)
        #expect(await status("nobody") == .notFound)
        try await client.requestVerify(.any("alice"))

        var seen = Set<String>()
        let (token, doc) = try await nextToken(hooks, "request_verify", seen: &seen)
        #expect(token.hasPrefix("vev_") && token.count == 90)
        #expect(doc["event"] as? String == "request_verify")
        let time = try #require(doc["time_ms"] as? Int64)
        // Issued (and its lifetime counted) just before the event's time was taken.
        let expires = try #require(doc["token_expires_ms"] as? Int64)
        #expect(expires <= time + 3600 * 1000 && expires > time + 3600 * 1000 - 10_000)
        let user = try #require(doc["user"] as? [String: Any])
        #expect(user["id"] as? Int64 == alice.id)
        #expect(user["email"] as? String == "alice@example.com")
        #expect(user["verified"] as? Bool == false)
        // Only alice's request got that far.
        let stored = try await waitForEvents(client, "request_verify", count: 1)
        #expect(stored.count == 1)
        #expect(hooks.recorded("request_verify").count == 1)
        #expect(daemon.secretsInLog([token, Self.password]).isEmpty)
    }

    @Test func verifyEmailRefusesBadTokensVerifiesOnceAndWorksForAnInactiveUser() async throws {
        let (daemon, hooks) = try await Self.daemonWithHooks()
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        let alice = try await daemon.createUser(client, "alice", email: "alice@example.com", password: Self.password)
        let bob = try await daemon.createUser(client, "bob", email: "bob@example.com", password: Self.password)
        var seen = Set<String>()

        let session = try #require(
            try await client.login(username: "alice", password: .text(Self.password), wantToken: true).token)
        try await client.forgotPassword("alice")
        let (reset, _) = try await nextToken(hooks, "forgot_password", seen: &seen)
        try await client.requestVerify(.any("alice"))
        let (first, _) = try await nextToken(hooks, "request_verify", seen: &seen)
        try await client.requestVerify(.any("alice"))
        let (second, _) = try await nextToken(hooks, "request_verify", seen: &seen)

        let forged = "vev_" + String(repeating: "A", count: 43)
        // The second request replaced the first token: one outstanding per account.
        for bad in [forged, "garbage", session.token.text, reset, String(second.dropLast()), first] {
            let r = await refusal { () async throws(VouchClientError) in
                try await client.verifyEmail(token: .text(bad))
            }
            #expect(r.status == .invalidToken, "token \(bad.prefix(6))...")
        }
        let verified = try await client.verifyEmail(token: .text(second))
        #expect(verified.id == alice.id)
        #expect(verified.flags.contains(.verified))
        #expect(try await client.user(.id(alice.id)).flags.contains(.verified))
        // Already verified: no new token; the one used is used up.
        let again = await refusal { () async throws(VouchClientError) in
            try await client.requestVerify(.any("alice"))
        }
        #expect(again.status == .alreadyVerified)
        let used = await refusal { () async throws(VouchClientError) in
            try await client.verifyEmail(token: .text(second))
        }
        #expect(used.status == .invalidToken)
        let hook = try await hooks.waitForRecorded("verify")
        #expect((hook.first?["user"] as? [String: Any])?["verified"] as? Bool == true)
        #expect(hook.first?["token"] == nil)

        // An inactive user can be verified and stays inactive.
        try await client.requestVerify(.id(bob.id))
        let (bobs, _) = try await nextToken(hooks, "request_verify", seen: &seen)
        _ = try await client.updateUser(.id(bob.id), set: .active, to: [])
        let inactive = try await client.verifyEmail(token: .text(bobs))
        #expect(inactive.flags.contains(.verified))
        #expect(!inactive.flags.contains(.active))
        #expect(try await client.user(.id(bob.id)).flags == [.verified])
        #expect(daemon.secretsInLog([session.token.text, reset, first, second, bobs, Self.password]).isEmpty)
    }

    @Test func anEmailChangeClearsVerifiedAndVoidsOutstandingVerifyTokens() async throws {
        let (daemon, hooks) = try await Self.daemonWithHooks()
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        let vera = try await daemon.createUser(
            client, "vera", email: "vera@example.com", password: Self.password, flags: [.active, .verified])
        var seen = Set<String>()

        let changed = try await client.updateUser(.id(vera.id), email: "vera@new.example.com")
        #expect(changed.changed.contains("email"))
        #expect(changed.changed.contains("verified"))
        #expect(!changed.user.flags.contains(.verified))

        try await client.requestVerify(.id(vera.id))
        let (token, doc) = try await nextToken(hooks, "request_verify", seen: &seen)
        #expect((doc["user"] as? [String: Any])?["email"] as? String == "vera@new.example.com")
        _ = try await client.updateUser(.id(vera.id), email: "vera@other.example.com")
        let r = await refusal { () async throws(VouchClientError) in try await client.verifyEmail(token: .text(token)) }
        #expect(r.status == .invalidToken)
        // Not even when the email goes back to the one the token was for.
        _ = try await client.updateUser(.id(vera.id), email: "vera@new.example.com")
        let back = await refusal { () async throws(VouchClientError) in
            try await client.verifyEmail(token: .text(token))
        }
        #expect(back.status == .invalidToken)
        #expect(!(try await client.user(.id(vera.id)).flags.contains(.verified)))
        #expect(daemon.secretsInLog([token, Self.password]).isEmpty)
    }
}
