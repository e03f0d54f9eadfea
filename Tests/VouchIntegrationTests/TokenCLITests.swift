import Foundation
import Testing
import VouchClient
import VouchProtocol
import VouchSecrets

/// vouchctl's token, password-flow, verification and events commands against the real daemon.
@Suite struct TokenCLITests {
    static let password = "correct horse 1"
    static let newPassword = "battery staple 2"

    static func line(_ text: String) -> String { text.trimmingCharacters(in: .whitespacesAndNewlines) }

    @Test func tokenCommands() async throws {
        let daemon = try await TestDaemon()
        let created = try daemon.vouchctl(
            ["user", "create", "--username", "alice", "--password-stdin"], stdin: Self.password + "\n")
        #expect(created.status == 0, "\(created.stderr)")

        let login = try daemon.vouchctl(["login", "alice", "--password-stdin", "--token"], stdin: Self.password + "\n")
        #expect(login.status == 0, "\(login.stderr)")
        let token = Self.line(login.stdout)
        #expect(token.hasPrefix("vch_") && token.count == 47)

        let verify = try daemon.vouchctl(["token", "verify"], stdin: token + "\n")
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.hasPrefix("1 alice (expires "))
        let verifyJSON = try daemon.vouchctl(["token", "verify", "--json"], stdin: token + "\n")
        let owner = try #require(
            try JSONSerialization.jsonObject(with: Data(verifyJSON.stdout.utf8)) as? [String: Any])
        #expect(owner["username"] as? String == "alice")
        #expect(owner["token_expires_at"] is String)
        let noToken = try daemon.vouchctl(["token", "verify"], stdin: "")
        #expect(noToken.status == 2)

        let issue = try daemon.vouchctl(["token", "issue", "alice", "--label", "backup job", "--ttl", "1h"])
        #expect(issue.status == 0, "\(issue.stderr)")
        let issued = Self.line(issue.stdout)
        #expect(issued.hasPrefix("vch_") && issued.count == 47)
        #expect(issue.stderr.contains("shown only once"))
        let badTTL = try daemon.vouchctl(["token", "issue", "alice", "--ttl", "soon"])
        #expect(badTTL.status == 2)

        let list = try daemon.vouchctl(["token", "list", "alice"])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("backup job"))
        #expect(list.stdout.contains("vouchctl"))  // the login's label: its PAM service
        #expect(list.stdout.contains("LAST USED"))
        let listJSON = try daemon.vouchctl(["token", "list", "alice", "--json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(listJSON.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 2)
        #expect(Set(rows.compactMap { $0["label"] as? String }) == ["vouchctl", "backup job"])
        for row in rows {
            #expect(Set(row.keys) == ["id", "label", "created_at", "expires_at", "last_used"])
        }
        for output in [list.stdout, listJSON.stdout] {
            #expect(!output.contains(token) && !output.contains(issued) && !output.contains("vch_"))
        }

        let revoke = try daemon.vouchctl(["token", "revoke"], stdin: token + "\n")
        #expect(revoke.status == 0, "\(revoke.stderr)")
        #expect(Self.line(revoke.stdout) == "Token revoked")
        let gone = try daemon.vouchctl(["token", "verify"], stdin: token + "\n")
        #expect(gone.status == 1)
        #expect(gone.stderr.lowercased().contains("token"))

        let everywhere = try daemon.vouchctl(["user", "revoke-sessions", "alice"])
        #expect(everywhere.status == 0, "\(everywhere.stderr)")
        #expect(Self.line(everywhere.stdout) == "Revoked 1 session")
        #expect(try daemon.vouchctl(["token", "verify"], stdin: issued + "\n").status == 1)
        #expect(Self.line(try daemon.vouchctl(["token", "list", "alice"]).stdout) == "No sessions")
        #expect(daemon.secretsInLog([token, issued, Self.password]).isEmpty)
    }

    @Test func passwordAndVerificationFlowsAndEvents() async throws {
        let hooks = try HookDir()
        try hooks.installRecorder("forgot_password")
        try hooks.installRecorder("request_verify")
        let daemon = try await TestDaemon(config: [hooks.configLine])
        let created = try daemon.vouchctl(
            ["user", "create", "--username", "alice", "--email", "alice@example.com", "--password-stdin"],
            stdin: Self.password + "\n")
        #expect(created.status == 0, "\(created.stderr)")
        var seen = Set<String>()

        let forgot = try daemon.vouchctl(["password", "forgot", "alice@example.com"])
        #expect(forgot.status == 0, "\(forgot.stderr)")
        let unknown = try daemon.vouchctl(["password", "forgot", "nobody"])
        #expect(unknown.status == 0)
        #expect(unknown.stdout == forgot.stdout)
        let (reset, _) = try await nextToken(hooks, "forgot_password", seen: &seen)

        let weak = try daemon.vouchctl(["password", "reset"], stdin: reset + "\nshort\n")
        #expect(weak.status == 1)
        #expect(weak.stderr.lowercased().contains("short"))
        let done = try daemon.vouchctl(["password", "reset"], stdin: reset + "\n" + Self.newPassword + "\n")
        #expect(done.status == 0, "\(done.stderr)")
        #expect(Self.line(done.stdout) == "Password reset")
        #expect(
            try daemon.vouchctl(["login", "alice", "--password-stdin"], stdin: Self.newPassword + "\n").status == 0)
        #expect(try daemon.vouchctl(["login", "alice", "--password-stdin"], stdin: Self.password + "\n").status == 1)
        #expect(try daemon.vouchctl(["password", "reset"], stdin: reset + "\nanother good one 3\n").status == 1)

        let request = try daemon.vouchctl(["user", "request-verify", "alice"])
        #expect(request.status == 0, "\(request.stderr)")
        let (verify, _) = try await nextToken(hooks, "request_verify", seen: &seen)
        let verified = try daemon.vouchctl(["user", "verify"], stdin: verify + "\n")
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(Self.line(verified.stdout) == "Verified alice")
        let again = try daemon.vouchctl(["user", "request-verify", "alice"])
        #expect(again.status == 1)

        // events: in order, with the peer, never a password or token.
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        _ = try await waitForEvents(client, "verify", count: 1)
        let json = try daemon.vouchctl(["events", "--user", "alice", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let events = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let names = events.compactMap { $0["event"] as? String }
        #expect(
            names == [
                "register", "forgot_password", "reset_password", "login", "failed_login", "request_verify", "verify",
            ], "\(names)")
        let ids = events.compactMap { $0["id"] as? Int64 }
        #expect(ids == ids.sorted())
        for event in events {
            #expect(event["peer_uid"] as? Int64 == Int64(getuid()))
            #expect((event["peer_pid"] as? Int64 ?? 0) > 0)
            #expect(event["username"] as? String == "alice")
            #expect(event["detail"] is [String: Any])
        }
        let table = try daemon.vouchctl(["events", "--user", "alice"])
        #expect(table.status == 0)
        #expect(table.stdout.contains("PEER UID") && table.stdout.contains("PEER PID"))
        let tableNames = table.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: " ")[1] }
        #expect(tableNames.map(String.init) == names, "\(table.stdout)")
        let all = try daemon.vouchctl(["events", "--since", "1h"])
        #expect(all.status == 0)
        #expect(all.stdout.contains("failed_login"))
        let future = try daemon.vouchctl(["events", "--since", "2999-01-01"])
        #expect(Self.line(future.stdout) == "No events")
        #expect(try daemon.vouchctl(["events", "--since", "yesterday"]).status == 2)
        let secrets = [reset, verify, Self.password, Self.newPassword, "short"]
        for output in [json.stdout, table.stdout, all.stdout] {
            for secret in secrets.dropLast() { #expect(!output.contains(secret)) }
        }
        #expect(daemon.secretsInLog(secrets.dropLast()).isEmpty)
    }

    @Test(.enabled(if: runningAsRoot, "running vouchctl as another uid (setpriv) needs root"))
    func aNonAdminPeerMayUseTokensAndFlowsButNotAdminTokenOperations() async throws {
        let nobody: UInt32 = 65534
        let hooks = try HookDir()
        try hooks.installRecorder("forgot_password")
        try hooks.installRecorder("request_verify")
        let daemon = try await TestDaemon(config: [hooks.configLine])
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        let alice = try await daemon.createUser(client, "alice", email: "alice@example.com", password: Self.password)
        var seen = Set<String>()

        // Allowed: login with a token, verify and revoke it, forgot, reset, verify email.
        let login = try daemon.vouchctl(
            ["login", "alice", "--password-stdin", "--token"], stdin: Self.password + "\n", asUID: nobody)
        #expect(login.status == 0, "\(login.stderr)")
        let token = Self.line(login.stdout)
        let verify = try daemon.vouchctl(["token", "verify"], stdin: token + "\n", asUID: nobody)
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(try daemon.vouchctl(["token", "revoke"], stdin: token + "\n", asUID: nobody).status == 0)
        #expect(!(await isLiveSession(client, .text(token), userId: alice.id)))

        #expect(try daemon.vouchctl(["password", "forgot", "alice"], asUID: nobody).status == 0)
        let (reset, doc) = try await nextToken(hooks, "forgot_password", seen: &seen)
        #expect((doc["peer"] as? [String: Any])?["uid"] as? Int64 == Int64(nobody))
        let r = try daemon.vouchctl(
            ["password", "reset"], stdin: reset + "\n" + Self.newPassword + "\n", asUID: nobody)
        #expect(r.status == 0, "\(r.stderr)")
        try await client.requestVerify(.id(alice.id))
        let (verifyToken, _) = try await nextToken(hooks, "request_verify", seen: &seen)
        let v = try daemon.vouchctl(["user", "verify"], stdin: verifyToken + "\n", asUID: nobody)
        #expect(v.status == 0, "\(v.stderr)")

        // Refused: issue, list, revoke everything, request verification, events.
        let session = try #require(
            try await client.login(username: "alice", password: .text(Self.newPassword), wantToken: true).token)
        for args in [
            ["token", "issue", "alice"], ["token", "list", "alice"], ["user", "revoke-sessions", "alice"],
            ["user", "request-verify", "alice"], ["events"],
        ] {
            let denied = try daemon.vouchctl(args, asUID: nobody)
            #expect(denied.status == 1, "\(args)")
            #expect(denied.stderr.contains("Permission denied"), "\(args): \(denied.stderr)")
            #expect(denied.stdout.isEmpty, "\(args)")
        }
        #expect(await isLiveSession(client, session.token, userId: alice.id))
        #expect(try await client.tokens(.id(alice.id)).count == 1)
        #expect(daemon.logText().contains("permission_denied"))
        #expect(daemon.logText().contains("peer_uid=65534"))
        let secrets = [token, reset, verifyToken, session.token.text, Self.password, Self.newPassword]
        #expect(daemon.secretsInLog(secrets).isEmpty)
    }
}
