import Foundation
import Testing
import VouchClient
import VouchProtocol

/// Issue 11: the rule that a password may not contain the username or the
/// email's local part was enforced but written nowhere, and not
/// configurable; Piccolo's own fixtures (`bob` / `Bob123$$$`) trip it.  It is
/// `password_refuse_identity` (yes by default), applied again on SIGHUP.
@Suite struct PasswordIdentityRuleTests {
    func create(_ daemon: TestDaemon, _ name: String) async -> (status: Status?, message: String) {
        guard let client = try? await daemon.client() else { return (nil, "unreachable") }
        defer { Task { await client.close() } }
        return await refusal { () async throws(VouchClientError) in
            try await client.createUser(username: name, password: .text("Bob123$$$"))
        }
    }

    @Test func theRuleIsOnByDefaultAndFollowsTheKeyAndReload() async throws {
        let daemon = try await TestDaemon()
        let refused = await create(daemon, "bob")
        #expect(refused.status == .passwordRejected)
        #expect(refused.message == "The password must not contain the username.")

        try daemon.writeConfig(["password_refuse_identity = no"])
        let pid = try #require(daemon.process?.processIdentifier)
        kill(pid, SIGHUP)
        let deadline = Date().addingTimeInterval(10)
        while !daemon.logText().contains("configuration reloaded"), Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(await create(daemon, "bob").status == nil)
        // A hashed-looking password is refused whatever the key says.
        let client = try await daemon.client()
        let hashLike = await refusal { () async throws(VouchClientError) in
            try await client.createUser(username: "carol", password: .text("$6$carolpassword"))
        }
        #expect(hashLike.status == .passwordRejected)
        #expect(hashLike.message == "Do not pass a hashed password.")
        await client.close()
    }
}
