import Foundation
import Testing
import VouchClient
import VouchProtocol

/// vouchctl against a real vouchd: output, exit status (0 done, 1 refused,
/// 2 usage, 3 unreachable) and JSON.
@Suite struct CLITests {
    /// `vouchctl user create`, returning the new id.
    func create(_ daemon: TestDaemon, _ args: [String], password: String) throws -> Int64 {
        let r = try daemon.vouchctl(["user", "create"] + args + ["--password-stdin"], stdin: password + "\n")
        #expect(r.status == 0, "\(args): \(r.stderr)")
        #expect(r.out.hasPrefix("Created user "), "\(r.stdout)")
        return try #require(Int64(r.out.dropFirst("Created user ".count)))
    }

    @Test func createShowAndLogin() async throws {
        let daemon = try await TestDaemon()
        let bob = try create(daemon, ["--username", "bob"], password: "cli first pass 1")
        let alice = try create(
            daemon, ["--username", "alice", "--email", "alice@example.org", "--admin", "--superuser"],
            password: "cli second pass 2")
        let carol = try create(daemon, ["--username", "carol", "--inactive"], password: "cli third pass 3")
        #expect(Set([bob, alice, carol]).count == 3)

        let client = try await daemon.client()
        #expect(try await client.user(.id(bob)).flags == .active)
        #expect(try await client.user(.id(bob)).email == nil)
        #expect(try await client.user(.id(alice)).flags == [.active, .admin, .superuser])
        #expect(try await client.user(.id(alice)).email == "alice@example.org")
        #expect(try await client.user(.id(carol)).flags == [])
        let aliceUUID = try await client.user(.id(alice)).uuid
        await client.close()

        // show by username, id and uuid.
        for name in ["alice", "ALICE", "\(alice)", aliceUUID.description] {
            let show = try daemon.vouchctl(["user", "show", name])
            #expect(show.status == 0, "\(name): \(show.stderr)")
            #expect(show.stdout.contains("alice@example.org"))
            #expect(show.stdout.contains(aliceUUID.description))
            #expect(!show.stdout.lowercased().contains("password"))
            #expect(!show.stdout.lowercased().contains("hash"))
        }

        let login = try daemon.vouchctl(["login", "bob", "--password-stdin"], stdin: "cli first pass 1\n")
        #expect(login.status == 0, "\(login.stderr)")
        #expect(login.out == "\(bob)")
        let lastLogin = try daemon.vouchctl(["user", "show", "bob"])
        #expect(!lastLogin.stdout.contains("last login     never"))

        let wrong = try daemon.vouchctl(["login", "bob", "--password-stdin"], stdin: "cli wrong pass 9\n")
        let unknown = try daemon.vouchctl(["login", "nobody", "--password-stdin"], stdin: "cli first pass 1\n")
        #expect(wrong.status == 1)
        #expect(unknown.status == 1)
        #expect(wrong.err == unknown.err)
        #expect(wrong.stderr.contains("Invalid username or password"))
        #expect(wrong.out.isEmpty)

        let inactive = try daemon.vouchctl(["login", "carol", "--password-stdin"], stdin: "cli third pass 3\n")
        #expect(inactive.status == 1)
        #expect(inactive.stderr.contains("The account is inactive"), "\(inactive.stderr)")

        let missing = try daemon.vouchctl(["user", "show", "nobody"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("User nobody doesn't exist"), "\(missing.stderr)")
        daemon.expectLogFreeOf(["cli first pass 1", "cli second pass 2", "cli third pass 3", "cli wrong pass 9"])
    }

    @Test func duplicatesAreRefusedWithTheReason() async throws {
        let daemon = try await TestDaemon()
        _ = try create(daemon, ["--username", "bob", "--email", "bob@example.org"], password: "cli first pass 1")
        for name in ["bob", "BOB"] {
            let dup = try daemon.vouchctl(
                ["user", "create", "--username", name, "--password-stdin"], stdin: "cli other pass 2\n")
            #expect(dup.status == 1, "\(name)")
            #expect(dup.stderr.contains("A user with that username already exists"), "\(dup.stderr)")
        }
        let email = try daemon.vouchctl(
            ["user", "create", "--username", "robert", "--email", "Bob@Example.org", "--password-stdin"],
            stdin: "cli other pass 2\n")
        #expect(email.status == 1)
        #expect(email.stderr.contains("A user with that email already exists"), "\(email.stderr)")
        let weak = try daemon.vouchctl(
            ["user", "create", "--username", "weak", "--password-stdin"], stdin: "tiny7\n")
        #expect(weak.status == 1)
        #expect(weak.stderr.contains("too short"))
    }

    @Test func listTableJSONPagingAndOrders() async throws {
        let daemon = try await TestDaemon()
        let empty = try daemon.vouchctl(["user", "list"])
        #expect(empty.status == 0)
        #expect(empty.out == "No users")

        var ids: [String: Int64] = [:]
        for name in ["mallory", "Bob", "alice", "eve"] {
            ids[name] = try create(
                daemon, ["--username", name, "--email", "\(name.lowercased())@example.org"], password: "cli list pass 1"
            )
        }
        let table = try daemon.vouchctl(["user", "list"])
        #expect(table.status == 0, "\(table.stderr)")
        let lines = table.out.split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        let header = try #require(lines.first)
        #expect(header.hasPrefix("ID"))
        #expect(header.contains("USERNAME"))
        #expect(!header.uppercased().contains("PASSWORD"))
        #expect(!header.uppercased().contains("HASH"))
        #expect(!table.stdout.contains("argon2") && !table.stdout.contains("$"))
        // Ordered by username, ignoring case.
        let names = lines.dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true)[1] }
        #expect(names == ["alice", "Bob", "eve", "mallory"])

        func listedNames(_ args: [String]) throws -> [String] {
            let r = try daemon.vouchctl(["user", "list", "--json"] + args)
            #expect(r.status == 0, "\(args): \(r.stderr)")
            let doc = try #require(try parseJSON(r.stdout) as? [String: Any])
            #expect(doc["total"] as? Int == 4)
            expectNoSecretKeys(doc)
            let users = try #require(doc["users"] as? [[String: Any]])
            return users.compactMap { $0["username"] as? String }
        }
        #expect(try listedNames(["--order-by", "-username"]) == ["mallory", "eve", "Bob", "alice"])
        #expect(try listedNames(["--order-by", "id"]) == ["mallory", "Bob", "alice", "eve"])
        #expect(try listedNames(["--order-by", "-id"]) == ["eve", "alice", "Bob", "mallory"])
        let created = try listedNames(["--order-by", "created"])
        #expect(Set(created) == Set(["mallory", "Bob", "alice", "eve"]))
        #expect(try listedNames(["--order-by", "-created"]) == created.reversed())
        _ = try daemon.vouchctl(["login", "eve", "--password-stdin"], stdin: "cli list pass 1\n")
        #expect(try listedNames(["--order-by", "last-login"]).first == "eve")
        #expect(try listedNames(["--order-by", "-last-login"]).last == "eve")
        #expect(try listedNames(["--limit", "3", "--page", "1"]) == ["alice", "Bob", "eve"])
        #expect(try listedNames(["--limit", "3", "--page", "2"]) == ["mallory"])
        #expect(try listedNames(["--limit", "3", "--page", "3"]) == [])

        let past = try daemon.vouchctl(["user", "list", "--page", "9"])
        #expect(past.status == 0)
        #expect(past.out == "No users on page 9 (4 in all)")

        for bad in [
            ["--page", "0"], ["--page", "-1"], ["--page", "x"], ["--limit", "0"], ["--limit", "1001"],
            ["--limit", "many"], ["--order-by", "password"], ["--order-by", "--id"], ["--order-by", ""],
        ] {
            let r = try daemon.vouchctl(["user", "list"] + bad)
            #expect(r.status == 2, "\(bad): \(r.stdout) \(r.stderr)")
            #expect(!r.err.isEmpty)
        }
    }

    @Test func changePermissionsUpdateAndDelete() async throws {
        let daemon = try await TestDaemon()
        _ = try create(daemon, ["--username", "bob", "--email", "bob@example.org"], password: "cli first pass 1")
        let verify = try daemon.vouchctl(["user", "change-permissions", "bob", "--verified", "true"])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.out == "Updated bob: verified")
        let again = try daemon.vouchctl(["user", "change-permissions", "bob", "--verified", "true"])
        #expect(again.out == "No changes")
        let nothing = try daemon.vouchctl(["user", "change-permissions", "bob"])
        #expect(nothing.status == 0)
        #expect(nothing.out == "No changes")
        let flags = try daemon.vouchctl(
            [
                "user", "change-permissions", "bob", "--admin", "true", "--superuser", "true", "--active", "false",
                "--json",
            ])
        #expect(flags.status == 0, "\(flags.stderr)")
        let doc = try #require(try parseJSON(flags.stdout) as? [String: Any])
        expectNoSecretKeys(doc)
        #expect(Set(doc["changed"] as? [String] ?? []) == ["active", "admin", "superuser"])
        let user = try #require(doc["user"] as? [String: Any])
        #expect(user["admin"] as? Bool == true)
        #expect(user["active"] as? Bool == false)
        #expect(user["verified"] as? Bool == true)

        let email = try daemon.vouchctl(["user", "update", "bob", "--email", "robert@example.org"])
        #expect(email.status == 0, "\(email.stderr)")
        #expect(email.out == "Updated bob: email, verified")
        let sameEmail = try daemon.vouchctl(["user", "update", "bob", "--email", "robert@example.org"])
        #expect(sameEmail.out == "No changes")
        let noEmail = try daemon.vouchctl(["user", "update", "bob", "--no-email", "--json"])
        let noEmailDoc = try #require(try parseJSON(noEmail.stdout) as? [String: Any])
        #expect((noEmailDoc["user"] as? [String: Any])?["email"] is NSNull)
        #expect(noEmailDoc["changed"] as? [String] == ["email"])
        let both = try daemon.vouchctl(["user", "update", "bob"])
        #expect(both.status == 2)

        let set = try daemon.vouchctl(
            ["user", "change-password", "bob", "--password-stdin"], stdin: "cli new pass 2\n")
        #expect(set.status == 0, "\(set.stderr)")
        #expect(set.out == "Password changed for bob")
        let tooShort = try daemon.vouchctl(["user", "change-password", "bob", "--password-stdin"], stdin: "tiny7\n")
        #expect(tooShort.status == 1)
        #expect(tooShort.stderr.contains("too short"))
        _ = try daemon.vouchctl(["user", "change-permissions", "bob", "--active", "true"])
        let login = try daemon.vouchctl(["login", "bob", "--password-stdin"], stdin: "cli new pass 2\n")
        #expect(login.status == 0, "\(login.stderr)")

        for args in [
            ["user", "change-permissions", "nobody", "--admin", "true"], ["user", "update", "nobody", "--no-email"],
            ["user", "change-password", "nobody", "--password-stdin"], ["user", "delete", "nobody", "--yes"],
            ["user", "show", "nobody"],
        ] {
            let r = try daemon.vouchctl(args, stdin: "cli whatever pass 3\n")
            #expect(r.status == 1, "\(args)")
            #expect(r.stderr.contains("User nobody doesn't exist"), "\(args): \(r.stderr)")
        }

        let unconfirmed = try daemon.vouchctl(["user", "delete", "bob"])
        #expect(unconfirmed.status == 2)
        #expect(unconfirmed.stderr.contains("--yes"))
        let delete = try daemon.vouchctl(["user", "delete", "bob", "--yes"])
        #expect(delete.status == 0, "\(delete.stderr)")
        #expect(delete.out == "Deleted user bob")
        let gone = try daemon.vouchctl(["user", "show", "bob"])
        #expect(gone.status == 1)
        #expect(try daemon.vouchctl(["user", "list"]).out == "No users")
        daemon.expectLogFreeOf(["cli first pass 1", "cli new pass 2", "cli whatever pass 3"])
    }

    @Test func jsonOutputIsOneDocumentWithoutSecrets() async throws {
        let daemon = try await TestDaemon()
        let created = try daemon.vouchctl(
            ["user", "create", "--username", "bob", "--email", "bob@example.org", "--password-stdin", "--json"],
            stdin: "cli json pass 1\n")
        #expect(created.status == 0, "\(created.stderr)")
        let user = try #require(try parseJSON(created.stdout) as? [String: Any])
        expectNoSecretKeys(user)
        for key in [
            "id", "uuid", "username", "email", "active", "admin", "superuser", "verified", "created_at", "updated_at",
            "last_login", "failed_logins", "locked_until",
        ] {
            #expect(user[key] != nil, "missing \(key)")
        }
        #expect(user["username"] as? String == "bob")
        #expect(user["email"] as? String == "bob@example.org")
        #expect(user["active"] as? Bool == true)
        #expect(user["last_login"] is NSNull)
        #expect(!created.stdout.contains("cli json pass 1"))

        let show = try daemon.vouchctl(["user", "show", "bob", "--json"])
        let shown = try #require(try parseJSON(show.stdout) as? [String: Any])
        expectNoSecretKeys(shown)
        #expect(shown["id"] as? Int == user["id"] as? Int)
        #expect(shown["uuid"] as? String == user["uuid"] as? String)

        let status = try daemon.vouchctl(["status", "--json"])
        #expect(status.status == 0, "\(status.stderr)")
        let s = try #require(try parseJSON(status.stdout) as? [String: Any])
        expectNoSecretKeys(s)
        #expect(s["version"] as? String == VouchVersion.string)
        #expect(s["users"] as? Int == 1)
        #expect(s["socket"] as? String == daemon.socketPath)
        for key in ["uptime_ms", "tokens", "requests_served", "connections"] { #expect(s[key] != nil, "\(key)") }

        let text = try daemon.vouchctl(["status"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("vouchd \(VouchVersion.string) on \(daemon.socketPath)"))
        #expect(text.stdout.contains("users        1"))
        daemon.expectLogFreeOf(["cli json pass 1"])
    }

    @Test func missingSocketIsExitThreeNamingIt() async throws {
        let daemon = try await TestDaemon(start: false)
        for args in [["status"], ["user", "list"], ["user", "show", "bob"]] {
            let r = try daemon.vouchctl(args)
            #expect(r.status == 3, "\(args): \(r.stderr)")
            #expect(r.stderr.contains(daemon.socketPath), "\(r.stderr)")
        }
        let login = try daemon.vouchctl(["login", "bob", "--password-stdin"], stdin: "cli pass 1\n")
        #expect(login.status == 3)
        #expect(login.stderr.contains(daemon.socketPath))
        let env = try runProcess(
            Products.vouchctl, ["status"], environment: ["VOUCH_SOCKET": daemon.directory + "/elsewhere.sock"])
        #expect(env.status == 3)
        #expect(env.stderr.contains(daemon.directory + "/elsewhere.sock"))
    }

    @Test func usageErrorsAreExitTwo() async throws {
        let daemon = try await TestDaemon(start: false)
        for args in [
            ["frobnicate"], ["user", "create", "--password-stdin"], ["user", "show"],
            ["user", "create", "--username", "x", "--password-stdin", "--password", "y"],
            ["user", "create", "--username", "x"], ["login", "bob"],
        ] {
            let r = try daemon.vouchctl(args)
            #expect(r.status == 2, "\(args): \(r.status) \(r.stderr)")
        }
    }
}
