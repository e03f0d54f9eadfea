import ArgumentParser
import VouchClient
import VouchProtocol

struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login", abstract: "Check a user's password; prints the user's id.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The username.") var username: String
    @Flag(help: "Read the password from the first line of standard input.") var passwordStdin = false
    @Flag(help: "Ask for a session token and print it instead of the id (shown only once).") var token = false

    func run() async throws {
        let secret = try PasswordInput.obtain(fromStdin: passwordStdin, argument: nil, confirm: false)
        let client = try await global.connect()
        defer { Task { await client.close() } }
        let result = try await call { () async throws(VouchClientError) in
            try await client.login(
                username: username, password: secret, wantToken: token, context: LoginContext(service: "vouchctl"))
        }
        if let issued = result.token {
            printToken(issued.token)
        } else {
            print(result.user.id)
        }
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show vouchd's status.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let client = try await global.connect()
        defer { Task { await client.close() } }
        let s = try await call { () async throws(VouchClientError) in try await client.status() }
        if json {
            Output.printJSON([
                "version": s.serverVersion, "uptime_ms": s.uptimeMillis, "users": s.users, "tokens": s.tokens,
                "requests_served": s.requestsServed, "connections": s.connections, "socket": global.socketPath,
            ])
            return
        }
        print("vouchd \(s.serverVersion) on \(global.socketPath)")
        print("uptime       \(s.uptimeMillis / 1000)s")
        print("users        \(s.users)")
        print("tokens       \(s.tokens)")
        print("requests     \(s.requestsServed)")
        print("connections  \(s.connections)")
    }
}
