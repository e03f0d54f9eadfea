import ArgumentParser
import Foundation
import VouchClient
import VouchProtocol
import VouchSecrets

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Verify, revoke, issue and list session tokens.",
        subcommands: [VerifyToken.self, RevokeToken.self, IssueToken.self, ListTokens.self])
}

/// Tokens are read from standard input, never from argv (which other users can see).
func readToken() throws -> SecretBytes {
    if PasswordInput.stdinIsTerminal { return PasswordInput.prompt("Token: ") }
    let token = PasswordInput.readLineFromStdin()
    guard !token.isEmpty else { throw CLIFailure.usage("no token on standard input") }
    return token
}

func printToken(_ token: SecretBytes) {
    token.withUnsafeBytes { raw in
        FileHandle.standardOutput.write(Data(raw))
        FileHandle.standardOutput.write(Data("\n".utf8))
    }
}

struct VerifyToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Check a session token read from standard input.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let token = try readToken()
        let client = try await global.connect()
        defer { Task { await client.close() } }
        let result = try await call { () async throws(VouchClientError) in try await client.verifyToken(token) }
        if json {
            var o = Output.json(result.user)
            o["token_expires_at"] = Output.time(result.expiresAt)
            Output.printJSON(o)
        } else {
            print("\(result.user.id) \(result.user.username) (expires \(Output.time(result.expiresAt)))")
        }
    }
}

struct RevokeToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Revoke (log out) a session token read from standard input.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let token = try readToken()
        let client = try await global.connect()
        defer { Task { await client.close() } }
        try await call { () async throws(VouchClientError) in try await client.revokeToken(token) }
        print("Token revoked")
    }
}

struct IssueToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue", abstract: "Issue a session token for a user without a password (admin).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The user: username, id or uuid.") var user: String
    @Option(help: "A label shown by `token list`.") var label: String = ""
    @Option(help: "Lifetime like 30m, 12h, 90d (default: the configured session lifetime).") var ttl: String?
    @Flag(help: "Print JSON (includes the token).") var json = false

    func run() async throws {
        var seconds: Int64 = 0
        if let ttl {
            guard let parsed = Durations.seconds(ttl), parsed > 0 else {
                throw CLIFailure.usage("--ttl: \"\(ttl)\" is not a duration like 30m, 12h or 90d")
            }
            seconds = parsed
        }
        let client = try await global.connect()
        defer { Task { await client.close() } }
        let issued = try await call { () async throws(VouchClientError) in
            try await client.issueToken(selector(user), label: label, ttlSeconds: seconds)
        }
        if json {
            let token = issued.token.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
            Output.printJSON(["token": token, "expires_at": Output.time(issued.expiresAt)])
        } else {
            printToken(issued.token)
            FileHandle.standardError.write(
                Data("expires \(Output.time(issued.expiresAt)); it is shown only once\n".utf8))
        }
    }
}

struct ListTokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "A user's live sessions: labels and times, never the tokens.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The user: username, id or uuid.") var user: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let client = try await global.connect()
        defer { Task { await client.close() } }
        let tokens = try await call { () async throws(VouchClientError) in try await client.tokens(selector(user)) }
        if json {
            Output.printJSON(
                tokens.map {
                    [
                        "id": $0.id, "label": $0.label, "created_at": Output.time($0.createdAt),
                        "expires_at": Output.time($0.expiresAt),
                        "last_used": $0.lastUsed.map(Output.time) as Any? ?? NSNull(),
                    ] as [String: Any]
                })
            return
        }
        guard !tokens.isEmpty else {
            print("No sessions")
            return
        }
        Output.table(
            ["ID", "LABEL", "CREATED", "EXPIRES", "LAST USED"],
            tokens.map {
                [
                    "\($0.id)", $0.label.isEmpty ? "-" : $0.label, Output.time($0.createdAt), Output.time($0.expiresAt),
                    Output.time($0.lastUsed),
                ]
            })
    }
}

struct RevokeSessions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke-sessions", abstract: "Log a user out everywhere (admin).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The user: username, id or uuid.") var user: String

    func run() async throws {
        let client = try await global.connect()
        defer { Task { await client.close() } }
        let n = try await call { () async throws(VouchClientError) in try await client.revokeTokens(selector(user)) }
        print("Revoked \(n) session\(n == 1 ? "" : "s")")
    }
}

/// Durations like 30s, 15m, 24h, 7d (a plain number is seconds).
enum Durations {
    static func seconds(_ text: String) -> Int64? {
        guard let last = text.last else { return nil }
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
        if let unit = units[last] {
            return Int64(text.dropLast()).flatMap {
                $0.multipliedReportingOverflow(by: unit).overflow ? nil : $0 * unit
            }
        }
        return Int64(text)
    }
}
