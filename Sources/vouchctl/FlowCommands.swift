import ArgumentParser
import Foundation
import VouchClient
import VouchProtocol
import VouchSecrets

struct PasswordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "password", abstract: "Forgot and reset password flows.",
        subcommands: [ForgotPassword.self, ResetPassword.self])
}

struct ForgotPassword: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forgot",
        abstract: "Start a password reset: the forgot_password hook gets a reset token for an active user.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The username or email.") var user: String

    func run() async throws {
        let client = try await global.connect()
        defer { Task { await client.close() } }
        try await call { () async throws(VouchClientError) in try await client.forgotPassword(user) }
        print("If the account exists and is active, a reset token was handed to the forgot_password hook")
    }
}

struct ResetPassword: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset",
        abstract:
            "Reset a password with a reset token: the token, then the new password, from standard input or prompts.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let token = try readToken()
        let password: SecretBytes
        if PasswordInput.stdinIsTerminal {
            password = try PasswordInput.obtain(fromStdin: false, argument: nil, confirm: true, label: "New password")
        } else {
            password = PasswordInput.readLineFromStdin()
        }
        let client = try await global.connect()
        defer { Task { await client.close() } }
        try await call { () async throws(VouchClientError) in
            try await client.resetPassword(token: token, password: password)
        }
        print("Password reset")
    }
}

struct RequestVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "request-verify",
        abstract: "Create an email verification token and hand it to the request_verify hook (admin).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The user: username, id or uuid.") var user: String

    func run() async throws {
        let client = try await global.connect()
        defer { Task { await client.close() } }
        try await call { () async throws(VouchClientError) in try await client.requestVerify(selector(user)) }
        print("A verification token was handed to the request_verify hook")
    }
}

struct VerifyEmail: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Mark a user verified with a verification token read from standard input.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print the user as JSON.") var json = false

    func run() async throws {
        let token = try readToken()
        let client = try await global.connect()
        defer { Task { await client.close() } }
        let user = try await call { () async throws(VouchClientError) in try await client.verifyEmail(token: token) }
        if json { Output.printJSON(Output.json(user)) } else { print("Verified \(user.username)") }
    }
}

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Show the audit trail: logins, changes, flows.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this user's events.") var user: String?
    @Option(help: "Since a time: an ISO 8601 date or time, or a duration ago like 15m, 24h, 7d.") var since: String?
    @Option(help: "At most this many events (1-10000).") var limit: Int = 1000
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be between 1 and 10000") }
        if let since, Self.sinceMillis(since) == nil {
            throw ValidationError("--since: \"\(since)\" is not an ISO 8601 time or a duration like 24h")
        }
    }

    static func sinceMillis(_ text: String) -> Int64? {
        if let seconds = Durations.seconds(text) { return Int64(Date().timeIntervalSince1970 * 1000) - seconds * 1000 }
        if let date = try? Date(text, strategy: .iso8601) { return Int64(date.timeIntervalSince1970 * 1000) }
        if let date = try? Date(text + "T00:00:00Z", strategy: .iso8601) {
            return Int64(date.timeIntervalSince1970 * 1000)
        }
        return nil
    }

    func run() async throws {
        let sinceMs = since.flatMap(Self.sinceMillis) ?? 0
        let client = try await global.connect()
        defer { Task { await client.close() } }
        let events = try await call { () async throws(VouchClientError) in
            try await client.events(user: user.map(selector), sinceMillis: sinceMs, limit: UInt32(limit))
        }
        if json {
            Output.printJSON(
                events.map { e -> [String: Any] in
                    let detail = (try? JSONSerialization.jsonObject(with: Data(e.detail.utf8))) ?? e.detail
                    return [
                        "id": e.id, "time": Output.time(e.time), "event": e.event,
                        "user_id": e.userId as Any? ?? NSNull(), "username": e.username, "peer_uid": e.peerUid,
                        "peer_pid": e.peerPid, "detail": detail,
                    ]
                })
            return
        }
        guard !events.isEmpty else {
            print("No events")
            return
        }
        Output.table(
            ["TIME", "EVENT", "USER", "PEER UID", "PEER PID"],
            events.map {
                [
                    Output.time($0.time), $0.event, $0.username.isEmpty ? "-" : $0.username, "\($0.peerUid)",
                    "\($0.peerPid)",
                ]
            })
    }
}
