import Foundation
import Testing
import VouchClient
import VouchProtocol
import VouchSecrets

/// Hooks: what each event's hooks receive, and that a slow or failing hook
/// never holds up or fails a request; `before_delete` may veto.
@Suite struct HookTests {
    static let password = "correct horse 1"

    @Test func everyHookReceivesTheDocumentedJSON() async throws {
        let hooks = try HookDir()
        let events = [
            "register", "update", "login", "failed_login", "request_verify", "verify", "forgot_password",
            "reset_password", "password_changed", "before_delete", "delete",
        ]
        for event in events { try hooks.installRecorder(event) }
        let daemon = try await TestDaemon(config: [hooks.configLine])
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        var seen = Set<String>()

        let alice = try await daemon.createUser(client, "alice", email: "alice@example.com", password: Self.password)
        _ = try await client.updateUser(.id(alice.id), email: "alice@new.example.com", set: .admin, to: .admin)
        _ = try await client.login(
            username: "alice", password: .text(Self.password),
            context: LoginContext(service: "sshd", remoteHost: "192.0.2.7", tty: "pts/3"))
        try await client.requestVerify(.id(alice.id))
        let (verify, _) = try await nextToken(hooks, "request_verify", seen: &seen)
        _ = try await client.verifyEmail(token: .text(verify))
        try await client.forgotPassword("alice")
        let (reset, _) = try await nextToken(hooks, "forgot_password", seen: &seen)
        try await client.resetPassword(token: .text(reset), password: .text("battery staple 2"))
        try await client.setPassword(.id(alice.id), password: .text(Self.password))
        // Two failures for bob; a name nobody has fails without a user.
        let bob = try await daemon.createUser(client, "bob", password: Self.password)
        for _ in 0..<2 {
            _ = await refusal { () async throws(VouchClientError) in
                try await client.login(username: "bob", password: .text("wrong horse 1"))
            }
        }
        _ = await refusal { () async throws(VouchClientError) in
            try await client.login(username: "nobody", password: .text("wrong horse 1"))
        }
        try await client.deleteUser(.id(alice.id))

        let uid = Int64(getuid())
        let pid = Int64(getpid())
        /// The document `event`'s hook got for alice (checking what every document has).
        func one(_ event: String, count: Int = 1) async throws -> [String: Any] {
            let docs = try await hooks.waitForRecorded(event, count: count)
            let doc = try #require(
                docs.first { (($0["user"] as? [String: Any])?["id"] as? Int64) == alice.id } ?? docs.first)
            #expect(doc["event"] as? String == event)
            #expect((doc["time_ms"] as? Int64 ?? 0) > 1_700_000_000_000)
            let peer = try #require(doc["peer"] as? [String: Any], "\(event)")
            #expect(peer["uid"] as? Int64 == uid, "\(event)")
            #expect(peer["pid"] as? Int64 == pid, "\(event)")
            if event != "forgot_password" && event != "request_verify" {
                #expect(doc["token"] == nil, "\(event) must not carry a token")
                #expect(doc["token_expires_ms"] == nil, "\(event)")
            }
            let env = try #require(hooks.environments(event).first)
            #expect(env.contains("VOUCH_EVENT=\(event)"), "\(env)")
            #expect(env.count == 3, "\(env)")
            return doc
        }
        func user(_ doc: [String: Any]) -> [String: Any] { doc["user"] as? [String: Any] ?? [:] }

        let register = try await one("register", count: 2)
        #expect(user(register)["id"] as? Int64 == alice.id)
        #expect(user(register)["username"] as? String == "alice")
        #expect(user(register)["email"] as? String == "alice@example.com")
        #expect(
            Set(user(register).keys) == ["id", "uuid", "username", "email", "active", "admin", "superuser", "verified"])

        let update = try await one("update")
        #expect(Set(update["changed"] as? [String] ?? []) == ["email", "admin"])
        #expect(user(update)["admin"] as? Bool == true)
        #expect(user(update)["email"] as? String == "alice@new.example.com")

        let login = try await one("login")
        let loginPeer = login["peer"] as? [String: Any] ?? [:]
        #expect(loginPeer["service"] as? String == "sshd")
        #expect(loginPeer["rhost"] as? String == "192.0.2.7")
        #expect(loginPeer["tty"] as? String == "pts/3")

        let requestVerify = try await one("request_verify")
        #expect(requestVerify["token"] as? String == verify)
        #expect(requestVerify["token_expires_ms"] is Int64)
        let verified = try await one("verify")
        #expect(user(verified)["verified"] as? Bool == true)
        let forgot = try await one("forgot_password")
        #expect(forgot["token"] as? String == reset)
        _ = try await one("reset_password")
        let changed = try await one("password_changed")
        #expect(user(changed)["id"] as? Int64 == alice.id)

        // failed_login: one for bob (with a user), one for "nobody" (user null, recorded as UNKNOWN).
        let failures = try await hooks.waitForRecorded("failed_login", count: 3)
        let unknown = try #require(failures.first { $0["user"] is NSNull })
        #expect(unknown["username"] as? String == "UNKNOWN")
        #expect(unknown["reason"] as? String == "invalid credentials")
        let bobs = failures.filter { (($0["user"] as? [String: Any])?["id"] as? Int64) == bob.id }
        #expect(bobs.count == 2)

        let beforeDelete = try await one("before_delete")
        #expect(user(beforeDelete)["id"] as? Int64 == alice.id)
        let delete = try await one("delete")
        #expect(user(delete)["username"] as? String == "alice")

        #expect(daemon.secretsInLog([verify, reset, Self.password, "battery staple 2", "wrong horse 1"]).isEmpty)
    }

    @Test func aHangingHookIsKilledAfterTheTimeoutAndDoesNotHoldUpTheRequest() async throws {
        let hooks = try HookDir()
        // Saves its pid, then sleeps far longer than hook_timeout; "done" would mean it was not killed.
        try hooks.install(
            "register",
            """
            sleep 1000 &
            echo "$$ $!" > "$OUT/.hang.pid" && mv "$OUT/.hang.pid" "$OUT/hang.pid"
            wait
            touch "$OUT/done"
            """)
        // Long enough that a loaded machine answers the request well before it; the test waits for it anyway.
        let daemon = try await TestDaemon(config: [hooks.configLine, "hook_timeout = 10s"])
        let client = try await daemon.client()
        defer { Task { await client.close() } }

        _ = try await daemon.createUser(client, "alice", password: Self.password)
        // Answered while the hook is still running: it has not been killed yet.
        #expect(daemon.logCount("timed_out=true") == 0)
        try await waitUntil("the hook to start") { hooks.exists("hang.pid") }
        #expect(daemon.logCount("timed_out=true") == 0)
        // Other requests go on meanwhile.
        _ = try await client.login(username: "alice", password: .text(Self.password))

        try await waitUntil("the hook to be killed") { daemon.logCount("timed_out=true") == 1 }
        let pidText = try String(contentsOfFile: hooks.output + "/hang.pid", encoding: .utf8)
        let pids = pidText.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
        #expect(pids.count == 2)
        // The hook and its child (sleep, in the hook's process group) are dead (gone, or a zombie
        // waiting for a reaper that is not the daemon).
        func dead(_ pid: Int32) -> Bool {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
            return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
        }
        try await waitUntil("the hook and its child to die") { pids.allSatisfy(dead) }
        #expect(!hooks.exists("done"))
        #expect(daemon.logText().contains("hook_event=register"))
        _ = try await daemon.createUser(client, "bob", password: Self.password)
    }

    @Test func aFailingHookIsLoggedAndDoesNotFailOrHoldUpTheRequest() async throws {
        let hooks = try HookDir()
        // Waits (bounded) until the test lets it go, then fails loudly with the token on stderr.
        try hooks.install(
            "forgot_password",
            """
            token=$(sed -n 's/.*"token":"\\([^"]*\\)".*/\\1/p')
            touch "$OUT/started"
            i=0
            while [ ! -e "$OUT/release" ] && [ $i -lt 1000 ]; do sleep 0.02; i=$((i+1)); done
            echo "could not mail $token" >&2
            exit 3
            """)
        let daemon = try await TestDaemon(config: [hooks.configLine])
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        _ = try await daemon.createUser(client, "alice", password: Self.password)

        try await client.forgotPassword("alice")
        // The hook runs, the request was answered, and the hook cannot finish until released.
        try await waitUntil("the hook to start") { hooks.exists("started") }
        _ = try await client.login(username: "alice", password: .text(Self.password))
        #expect(daemon.logCount("hook failed") == 0)
        _ = FileManager.default.createFile(atPath: hooks.output + "/release", contents: nil)
        try await waitUntil("the failure to be logged") { daemon.logCount("hook failed") == 1 }
        let line = try #require(daemon.logText().split(separator: "\n").first { $0.contains("hook failed") })
        #expect(line.contains("exit_status=3"))
        // The token the hook printed is redacted in the log.
        #expect(line.contains("could not mail [redacted]"), "\(line)")
        #expect(!line.contains("vrp_"))
    }

    @Test func beforeDeleteVetoesWithItsReasonOrLetsTheDeletionThrough() async throws {
        let hooks = try HookDir()
        try hooks.install(
            "before_delete",
            """
            if grep -q '"username":"keeper"'; then
                echo "keeper is protected by policy" >&2
                echo "a second line" >&2
                exit 1
            fi
            exit 0
            """)
        try hooks.installRecorder("delete")
        let daemon = try await TestDaemon(config: [hooks.configLine])
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        let keeper = try await daemon.createUser(client, "keeper", password: Self.password)
        let other = try await daemon.createUser(client, "other", password: Self.password)

        let vetoed = await refusal { () async throws(VouchClientError) in try await client.deleteUser(.id(keeper.id)) }
        #expect(vetoed.status == .vetoed)
        #expect(vetoed.message == "keeper is protected by policy")
        #expect(try await client.user(.id(keeper.id)).username == "keeper")
        // The CLI shows the reason and exits 1.
        let cli = try daemon.vouchctl(["user", "delete", "keeper", "--yes"])
        #expect(cli.status == 1)
        #expect(cli.stderr.contains("keeper is protected by policy"))

        try await client.deleteUser(.id(other.id))
        let gone = await refusal { () async throws(VouchClientError) in try await client.user(.id(other.id)) }
        #expect(gone.status == .notFound)
        let deleted = try await hooks.waitForRecorded("delete")
        #expect(deleted.count == 1)
        #expect((deleted.first?["user"] as? [String: Any])?["username"] as? String == "other")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "the example needs python3"))
    func theExampleResetLinkHookWritesTheLinkAndLogsALineWithoutTheToken() async throws {
        let hooks = try HookDir()
        let example = Products.packageRoot + "/etc/vouch/hooks.d/forgot_password/50-print-reset-link"
        let links = hooks.output + "/reset-links"
        let script = try String(contentsOfFile: example, encoding: .utf8)
        #expect(script.contains("OUTDIR=\"/run/vouch/reset-links\""))
        let body = script.replacingOccurrences(of: "/run/vouch/reset-links", with: links)
        try hooks.install("forgot_password", name: "50-print-reset-link", String(body.drop { $0 != "\n" }.dropFirst()))
        let daemon = try await TestDaemon(config: [hooks.configLine])
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        let alice = try await daemon.createUser(client, "alice", email: "alice@example.com", password: Self.password)

        try await client.forgotPassword("alice")
        let file = links + "/\(alice.id).url"
        try await waitUntil("the reset link file") { FileManager.default.fileExists(atPath: file) }
        let link = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(link.hasPrefix("https://app.example.com/reset-password?token=vrp_"))
        var st = stat()
        #expect(stat(file, &st) == 0 && st.st_mode & 0o777 == 0o600)
        let token = String(link.split(separator: "=").last ?? "")
        try await waitUntil("the hook's line in the log") { daemon.logCount("reset link for alice") == 1 }
        #expect(daemon.logText().contains("hook finished"))
        #expect(daemon.secretsInLog([token]).isEmpty)
        // The link works.
        try await client.resetPassword(token: .text(token), password: .text("battery staple 2"))
    }
}
