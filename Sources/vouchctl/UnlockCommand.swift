import ArgumentParser
import VouchClient
import VouchProtocol

struct UnlockUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlock", abstract: "Clear a user's failed logins and lockout (admin).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The user: username, id or uuid.") var user: String
    @Flag(help: "Print the user as JSON.") var json = false

    func run() async throws {
        let client = try await global.connect()
        defer { Task { await client.close() } }
        let record = try await call { () async throws(VouchClientError) in try await client.unlockUser(selector(user)) }
        if json { Output.printJSON(Output.json(record)) } else { print("Unlocked \(record.username)") }
    }
}
