import ArgumentParser
import Foundation
import VouchClient
import VouchProtocol

@main
struct VouchCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vouchctl",
        abstract: "Administer vouch users and talk to vouchd.",
        discussion: """
            Exit status: 0 done, 1 refused by vouchd (the reason is on stderr), 2 usage error, \
            3 vouchd unreachable.
            """,
        version: VouchVersion.string,
        subcommands: [
            UserCommand.self, LoginCommand.self, TokenCommand.self, PasswordCommand.self, EventsCommand.self,
            StatusCommand.self, BackupCommand.self,
        ],
        // Only `--help` (see HelpPlacement): `-h` and `-help` could be a user's name.
        helpNames: [.long]
    )

    /// Runs the command and maps every outcome to the documented exit status.
    static func main() async {
        do {
            let arguments = Array(CommandLine.arguments.dropFirst())
            if let problem = HelpPlacement.problem(arguments) { throw CLIFailure.usage(problem) }
            var command = try parseAsRoot(hoistGlobalOptions(arguments))
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as CLIFailure {
            FileHandle.standardError.write(Data("vouchctl: \(error.message)\n".utf8))
            Foundation.exit(error.exitCode)
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                Foundation.exit(0)
            }
            if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            // Usage errors (ArgumentParser's 64) are exit status 2, like most Unix tools.
            Foundation.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}

/// `vouchctl --socket PATH user create ...`: options every command takes may
/// come before the subcommand; ArgumentParser wants them after it, so they move
/// to the end (before any `--`).
/// The global options that take a value (`--socket PATH`, `--timeout SECONDS`), which
/// every command accepts anywhere: both `hoistGlobalOptions` and `HelpPlacement` skip them.
let globalOptionsWithValue: Set<String> = ["--socket", "--timeout"]

/// Whether `arg` is a global option with its value in the same word (`--socket=PATH`).
func isGlobalOptionWithInlineValue(_ arg: String) -> Bool {
    globalOptionsWithValue.contains { arg.hasPrefix($0 + "=") }
}

func hoistGlobalOptions(_ args: [String]) -> [String] {
    var hoisted: [String] = []
    var rest: [String] = []
    var i = 0
    var seenSubcommand = false
    while i < args.count {
        let arg = args[i]
        if !seenSubcommand, globalOptionsWithValue.contains(arg), i + 1 < args.count {
            hoisted += [arg, args[i + 1]]
            i += 2
            continue
        }
        if !seenSubcommand, isGlobalOptionWithInlineValue(arg) {
            hoisted.append(arg)
            i += 1
            continue
        }
        if !arg.hasPrefix("-") { seenSubcommand = true }
        rest.append(arg)
        i += 1
    }
    if let dashdash = rest.firstIndex(of: "--") {
        rest.insert(contentsOf: hoisted, at: dashdash)
        return rest
    }
    return rest + hoisted
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "vouchd's socket (default: $VOUCH_SOCKET or /run/vouch/vouchd.sock).")
    var socket: String?

    @Option(name: .long, help: "Seconds to wait for vouchd.")
    var timeout: Int = 30

    var socketPath: String {
        socket ?? ProcessInfo.processInfo.environment["VOUCH_SOCKET"] ?? VouchClient.defaultSocketPath
    }

    func connect() async throws -> VouchClient {
        do {
            return try await VouchClient.connect(socketPath: socketPath, timeout: .seconds(timeout))
        } catch {
            throw CLIFailure.from(error)
        }
    }
}

/// A failure with its exit status: 1 refused, 2 usage, 3 unreachable.
struct CLIFailure: Error {
    let message: String
    let exitCode: Int32

    static func refused(_ message: String) -> CLIFailure { CLIFailure(message: message, exitCode: 1) }
    static func usage(_ message: String) -> CLIFailure { CLIFailure(message: message, exitCode: 2) }

    static func from(_ error: any Error) -> CLIFailure {
        guard let error = error as? VouchClientError else { return refused("\(error)") }
        switch error.kind {
        case .refused: return refused(error.description)
        case .unreachable, .timeout, .connectionClosed: return CLIFailure(message: error.message, exitCode: 3)
        case .protocolViolation: return refused(error.message)
        }
    }
}

/// Runs a client call, turning its error into a `CLIFailure`.
func call<T>(_ body: () async throws(VouchClientError) -> T) async throws -> T {
    do {
        return try await body()
    } catch {
        throw CLIFailure.from(error)
    }
}
