import CVouchSys
import Foundation
import VouchSecrets

/// Reads passwords without ever holding them in a `String`.
enum PasswordInput {
    /// One line from standard input (without its newline), as bytes.
    static func readLineFromStdin() -> SecretBytes {
        var bytes: [UInt8] = []
        defer { bytes.withUnsafeMutableBytes { SecretBytes.wipe($0) } }
        var byte: UInt8 = 0
        while read(0, &byte, 1) == 1 {
            if byte == UInt8(ascii: "\n") { break }
            bytes.append(byte)
        }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        return SecretBytes(bytes)
    }

    static var stdinIsTerminal: Bool { isatty(0) == 1 }

    /// Prompts on the terminal without echo.
    static func prompt(_ label: String) -> SecretBytes {
        FileHandle.standardError.write(Data(label.utf8))
        let was = cvouch_set_echo(0, 0)
        defer {
            if was >= 0 { _ = cvouch_set_echo(0, was) }
            FileHandle.standardError.write(Data("\n".utf8))
        }
        return readLineFromStdin()
    }

    /// The password for a command: from `--password-stdin`, `--password`, or a
    /// prompt (twice when `confirm`) when stdin is a terminal.
    static func obtain(fromStdin: Bool, argument: String?, confirm: Bool, label: String = "Password") throws
        -> SecretBytes
    {
        if fromStdin, argument != nil {
            throw CLIFailure.usage("use either --password-stdin or --password, not both")
        }
        if fromStdin { return readLineFromStdin() }
        if let argument {
            FileHandle.standardError.write(
                Data(
                    "warning: --password puts the password in your shell history and the process list; prefer --password-stdin\n"
                        .utf8))
            return SecretBytes(utf8: argument)
        }
        guard stdinIsTerminal else {
            throw CLIFailure.usage("no password given: use --password-stdin or run on a terminal")
        }
        let first = prompt("\(label): ")
        if confirm {
            let second = prompt("Confirm \(label.lowercased()): ")
            guard first.constantTimeEquals(second) else { throw CLIFailure.refused("Passwords don't match") }
        }
        return first
    }

    /// A line of text from the terminal (for a missing username or email).
    static func promptLine(_ label: String) -> String? {
        FileHandle.standardError.write(Data(label.utf8))
        return readLine(strippingNewline: true)
    }
}
