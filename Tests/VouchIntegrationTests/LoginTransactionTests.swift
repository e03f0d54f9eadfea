import Foundation
import Testing
import VouchClient
import VouchProtocol

/// Issue 11: a login asking for a token was two transactions: `last_login`
/// was committed, then the token inserted; when the second failed the client
/// was told `storage unavailable` although the login was recorded.  Now both
/// are one transaction: the answer matches what was written.
@Suite struct LoginTransactionTests {
    @Test func aTokenThatCannotBeStoredLeavesTheLoginUnrecorded() async throws {
        let daemon = try await TestDaemon()
        let bob = try await daemon.createUser("bob", password: "login tx pass 1")
        daemon.stop()
        // The token insert fails, as a full disk or an I/O error would, after the user row was updated.
        let trigger = try sqlite3(
            daemon.databasePath,
            "CREATE TRIGGER refuse_tokens BEFORE INSERT ON tokens BEGIN SELECT RAISE(ABORT, 'refused by test'); END;")
        #expect(trigger.status == 0, "\(trigger.stderr)")
        try await daemon.start()

        let client = try await daemon.client()
        let refused = await refusal { () async throws(VouchClientError) in
            try await client.login(username: "bob", password: .text("login tx pass 1"), wantToken: true)
        }
        #expect(refused.status == .storageUnavailable, "\(refused.message)")
        // Nothing was written: no last login, in memory or on disk.
        #expect(try await client.user(.id(bob.id)).lastLogin == nil)
        await client.close()
        daemon.stop()
        let onDisk = try sqlite3(daemon.databasePath, "SELECT count(*) FROM users WHERE last_login IS NOT NULL;")
        #expect(onDisk.out == "0", "\(onDisk.stdout) \(onDisk.stderr)")
        let tokens = try sqlite3(daemon.databasePath, "SELECT count(*) FROM tokens;")
        #expect(tokens.out == "0")

        // Without the fault, a login with a token records both.
        #expect(try sqlite3(daemon.databasePath, "DROP TRIGGER refuse_tokens;").status == 0)
        try await daemon.start()
        let again = try await daemon.client()
        let ok = try await again.login(username: "bob", password: .text("login tx pass 1"), wantToken: true)
        #expect(ok.token != nil)
        #expect(ok.user.lastLogin != nil)
        let stored = try await again.user(.id(bob.id))
        #expect(stored.lastLogin == ok.user.lastLogin)
        await again.close()
    }
}
