import Foundation
import Testing
import VouchClient
import VouchProtocol

@Suite struct SmokeTests {
    @Test func createLoginAndRestartThroughClientAndCLI() async throws {
        let daemon = try await TestDaemon()
        let created = try daemon.vouchctl(
            ["user", "create", "--username", "bob", "--password-stdin"], stdin: "correct horse 1\n")
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.hasPrefix("Created user "))
        let id = Int64(created.stdout.dropFirst("Created user ".count).trimmingCharacters(in: .whitespacesAndNewlines))

        let login = try daemon.vouchctl(["login", "bob", "--password-stdin"], stdin: "correct horse 1\n")
        #expect(login.status == 0)
        #expect(Int64(login.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) == id)

        let wrong = try daemon.vouchctl(["login", "bob", "--password-stdin"], stdin: "wrong horse 1\n")
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("Invalid username or password"))

        try await daemon.restart()
        let client = try await daemon.client()
        let (user, _) = try await client.login(username: "BOB", password: .text("correct horse 1"))
        #expect(user.id == id)
        #expect(user.username == "bob")
        await client.close()
    }
}
