import Foundation
import Testing
import VouchClient
import VouchProtocol
import VouchSecrets

/// A debug-level daemon through a realistic session never logs a password.
@Suite struct SecretsInLogTests {
    @Test func noPasswordReachesTheDebugLog() async throws {
        let daemon = try await TestDaemon(config: ["lockout_deny = 2", "login_failures_per_minute = 0"])
        let passwords = [
            "first Secret 1", "second Secret 2", "third Secret 3", "wrong Guess 4", "admin Set 5", "wrong Guess 6",
            "tiny", String(repeating: "long Secret ", count: 20), "unicode Sécret ✓ 7", "cli Secret 8",
        ]
        let client = try await daemon.client()
        _ = try await client.createUser(username: "alice", email: "alice@example.com", password: .text(passwords[0]))
        _ = try await client.login(
            username: "alice", password: .text(passwords[0]),
            context: LoginContext(service: "sshd", remoteHost: "10.0.0.1", tty: "pts/1"))
        try await client.changePassword(username: "alice", old: .text(passwords[0]), new: .text(passwords[1]))
        try await client.setPassword(.username("alice"), password: .text(passwords[2]))
        for wrong in [passwords[3], passwords[5]] {
            _ = try? await client.login(username: "alice", password: .text(wrong))
        }
        _ = try? await client.login(username: "alice", password: .text(passwords[2]))  // locked now
        _ = try? await client.login(username: "nobody", password: .text(passwords[3]))
        _ = try await client.unlockUser(.username("alice"))
        try await client.setPassword(.username("alice"), password: .text(passwords[4]))
        _ = try? await client.createUser(username: "bob", password: .text(passwords[6]))  // rejected: too short
        _ = try? await client.createUser(username: "carol", password: .text(passwords[7]))  // rejected: too long
        _ = try await client.createUser(username: "dave", password: .text(passwords[8]))
        _ = try? await client.changePassword(username: "dave", old: .text(passwords[3]), new: .text(passwords[1]))
        await client.close()
        let created = try daemon.vouchctl(
            ["user", "create", "--username", "erin", "--password-stdin"], stdin: passwords[9] + "\n")
        #expect(created.status == 0)
        _ = try daemon.vouchctl(["login", "erin", "--password-stdin"], stdin: passwords[9] + "\n")
        _ = try daemon.vouchctl(["login", "erin", "--password-stdin"], stdin: passwords[3] + "\n")
        daemon.stop()

        let log = daemon.logText()
        #expect(log.contains("login"), "the log is empty?")
        // Debug lines (syslog priority 7) about the failed and successful logins are there.
        #expect(log.contains("<7>login failed: wrong password"), "not a debug log")
        #expect(log.contains("<7>login refused: locked"))
        for password in passwords {
            #expect(!log.contains(password), "the log contains a password")
            // Nor its distinctive part, nor its UTF-8 bytes in hex.
            let hex = password.utf8.map { String(format: "%02x", $0) }.joined()
            #expect(!log.lowercased().contains(hex))
        }
    }
}
