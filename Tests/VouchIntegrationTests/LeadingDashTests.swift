import Foundation
import Testing
import VouchClient
import VouchProtocol

/// Issue 11: a username that begins with '-' let `vouchctl login` exit 0
/// without checking anything (`vouchctl login -help` printed help).  Such
/// names are refused for new users, the existing ones are reported by
/// `vouchd migrate` and still work after `--`, and help never exits 0 from a
/// command that checks something.
@Suite struct LeadingDashTests {
    @Test func aUsernameThatBeginsWithADashIsRefused() async throws {
        let daemon = try await TestDaemon()
        let r = try daemon.vouchctl(["user", "create", "--username=-help", "--password-stdin"], stdin: "secret-pw-1\n")
        #expect(r.status == 1, "\(r.stdout)")
        #expect(r.stderr.contains("The username must not begin with '-'."), "\(r.stderr)")
        let client = try await daemon.client()
        #expect(try await client.users().total == 0)
        await client.close()
    }

    @Test func anExistingDashNameIsReportedAndUsableOnlyAfterDoubleDash() async throws {
        let daemon = try await TestDaemon()
        try await daemon.createUser("alice", password: "secret-pw-1")
        daemon.stop()
        // A name accepted before the rule: the same password as alice's.
        let inserted = try sqlite3(
            daemon.databasePath,
            """
            INSERT INTO users (uuid, username, username_key, password_hash, flags, created_at, updated_at)
            SELECT randomblob(16), '-help', '-help', password_hash, 1, created_at, updated_at
            FROM users WHERE username = 'alice';
            """)
        #expect(inserted.status == 0, "\(inserted.stderr)")
        let migrate = try daemon.vouchdCommand(["migrate", "--config", daemon.configPath])
        #expect(migrate.status == 0, "\(migrate.stderr)")
        #expect(migrate.stdout.contains("username \"-help\" begins with '-'"), "\(migrate.stdout)")
        #expect(migrate.stdout.contains("vouchctl login -- -help"), "\(migrate.stdout)")
        try await daemon.start()

        // The reproduction: a wrong password must never exit 0.
        let fooled = try daemon.vouchctl(["login", "-help", "--password-stdin"], stdin: "WRONG\n")
        #expect(fooled.status == 2, "\(fooled.stdout) \(fooled.stderr)")
        #expect(fooled.stdout.isEmpty)
        #expect(fooled.stderr.contains("--"), "\(fooled.stderr)")
        for args in [["login", "-h", "--password-stdin"], ["login", "-x", "--password-stdin"]] {
            let r = try daemon.vouchctl(args, stdin: "WRONG\n")
            #expect(r.status == 2, "\(args): \(r.stdout) \(r.stderr)")
        }
        // After `--` the name is an operand, and the password is checked.
        let wrong = try daemon.vouchctl(["login", "--password-stdin", "--", "-help"], stdin: "WRONG\n")
        #expect(wrong.status == 1, "\(wrong.stderr)")
        let right = try daemon.vouchctl(["login", "--password-stdin", "--", "-help"], stdin: "secret-pw-1\n")
        #expect(right.status == 0, "\(right.stderr)")
        #expect(right.out == "2")
    }

    @Test func helpExitsZeroOnlyBeforeAnyOperand() async throws {
        let daemon = try await TestDaemon()
        for args in [["--help"], ["help"], ["help", "login"], ["login", "--help"], ["user", "create", "--help"]] {
            let r = try runProcess(Products.vouchctl, args)
            #expect(r.status == 0, "\(args): \(r.stderr)")
            #expect(r.stdout.contains("USAGE") || r.stdout.contains("Usage"), "\(args)")
        }
        for args in [
            ["login", "bob", "--help"], ["login", "--password-stdin", "--help"], ["-h"], ["login", "-h"],
            ["user", "create", "--username", "x", "--help"], ["token", "verify", "-help"],
        ] {
            let r = try daemon.vouchctl(args, stdin: "WRONG\n")
            #expect(r.status == 2, "\(args): \(r.stdout) \(r.stderr)")
            #expect(r.stdout.isEmpty, "\(args)")
        }
    }
}
