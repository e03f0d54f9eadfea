import ArgumentParser
import Foundation
import VouchClient
import VouchProtocol

/// `vouchctl user linux|keys|expire|password-max-age`: Linux logins
/// (docs/LINUX-LOGINS.md), SSH keys and password aging.
struct LinuxAccount: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "linux", abstract: "Show or change a user's Linux login (uid, real name, home, shell).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The user: username, id or uuid.") var user: String
    @Option(help: "true or false: whether the user may log in to this host.") var login: Bool?
    @Option(help: "The real name (GECOS).") var realName: String?
    @Option(help: "The home directory (\"default\": login_home).") var home: String?
    @Option(help: "The login shell, listed in /etc/shells (\"default\": login_shell).") var shell: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let change = LinuxAccountChange(
            login: login, realName: realName, home: home.map { $0 == "default" ? "" : $0 },
            shell: shell.map { $0 == "default" ? "" : $0 })
        let record = try await withClient(global) { client throws(VouchClientError) in
            change == LinuxAccountChange()
                ? try await client.linuxAccount(selector(user))
                : try await client.setLinuxAccount(selector(user), change)
        }
        LinuxOutput.show(record, json: json)
    }
}

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "A user's SSH public keys.",
        subcommands: [AddKey.self, ListKeys.self, RemoveKey.self, PrintKeys.self])

    struct AddKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Add public keys (arguments, or lines of standard input with -).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The user: username, id or uuid.") var user: String
        @Argument(help: "One authorized_keys line per argument; - reads them from standard input.") var keys: [String]

        func run() async throws {
            var lines: [String] = []
            for key in keys {
                if key == "-" {
                    while let line = readLine() {
                        if !line.trimmingCharacters(in: .whitespaces).isEmpty { lines.append(line) }
                    }
                } else {
                    lines.append(key)
                }
            }
            guard !lines.isEmpty else { throw CLIFailure.usage("no key given") }
            let client = try await global.connect()
            defer { Task { await client.close() } }
            for line in lines {
                let record = try await call { () async throws(VouchClientError) in
                    try await client.addSSHKey(selector(user), key: line)
                }
                print("Added key \(record.sshKeys.count) to \(record.username)")
            }
        }
    }

    struct ListKeys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List keys, numbered.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The user: username, id or uuid.") var user: String

        func run() async throws {
            let record = try await withClient(global) { client throws(VouchClientError) in
                try await client.linuxAccount(selector(user))
            }
            for (i, key) in record.sshKeys.enumerated() { print("\(i + 1)  \(key)") }
        }
    }

    struct RemoveKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove",
            abstract: "Remove a key, named by its number in `keys list`, its line or its base64 part.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The user: username, id or uuid.") var user: String
        @Argument(help: "The key.") var key: String

        func run() async throws {
            let client = try await global.connect()
            defer { Task { await client.close() } }
            var text = key
            if let n = Int(key) {
                let record = try await call { () async throws(VouchClientError) in
                    try await client.linuxAccount(selector(user))
                }
                guard (1...max(1, record.sshKeys.count)).contains(n), n <= record.sshKeys.count else {
                    throw CLIFailure.refused("\(record.username) has no key \(n)")
                }
                text = record.sshKeys[n - 1]
            }
            let record = try await call { () async throws(VouchClientError) in
                try await client.removeSSHKey(selector(user), key: text)
            }
            print("Removed; \(record.username) has \(record.sshKeys.count) keys")
        }
    }

    /// For sshd's `AuthorizedKeysCommand /usr/bin/vouchctl user keys print %u`:
    /// the keys of an active login user, nothing for anyone else (exit 0, so
    /// sshd goes on to its other key sources).
    struct PrintKeys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "print", abstract: "Print an active login user's keys in authorized_keys form (for sshd).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The username.") var user: String

        func run() async throws {
            let client = try await global.connect()
            defer { Task { await client.close() } }
            let record: LinuxAccountRecord
            let active: Bool
            do {
                record = try await client.linuxAccount(.username(user))
                active = try await client.user(.username(user)).flags.contains(.active)
            } catch let error where error.status == .notFound {
                return
            } catch {
                throw CLIFailure.from(error)
            }
            guard record.login, active else { return }
            for key in record.sshKeys { print(key) }
        }
    }
}

struct ExpirePassword: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expire", abstract: "Make a user change their password at the next login (like chage -d 0).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The user: username, id or uuid.") var user: String

    func run() async throws {
        let record = try await withClient(global) { client throws(VouchClientError) in
            try await client.setPasswordAging(selector(user), expire: true)
        }
        print("\(record.username) must change their password at the next login")
    }
}

struct PasswordMaxAge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "password-max-age", abstract: "Set how long a user's password lasts.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The user: username, id or uuid.") var user: String
    @Argument(help: "Days; \"never\", or \"default\" for password_max_age.") var age: String

    func run() async throws {
        let seconds: Int64??
        switch age {
        case "default": seconds = .some(nil)
        case "never": seconds = .some(0)
        default:
            guard let days = Int64(age), (1...36500).contains(days) else {
                throw CLIFailure.usage("the age is a number of days (1-36500), never or default")
            }
            seconds = .some(days * 86400)
        }
        let record = try await withClient(global) { client throws(VouchClientError) in
            try await client.setPasswordAging(selector(user), maxAgeSeconds: seconds)
        }
        LinuxOutput.show(record, json: false)
    }
}

/// Connects, runs one call and closes: the shape of every command here.
func withClient<T>(_ global: GlobalOptions, _ body: (VouchClient) async throws(VouchClientError) -> T) async throws
    -> T
{
    let client = try await global.connect()
    defer { Task { await client.close() } }
    return try await call { () async throws(VouchClientError) in try await body(client) }
}

enum LinuxOutput {
    static func show(_ r: LinuxAccountRecord, json: Bool) {
        func age(_ seconds: Int64) -> String { seconds == 0 ? "never" : "\(seconds / 86400) days" }
        if json {
            Output.printJSON([
                "user_id": r.userId, "username": r.username, "login": r.login, "uid": r.uid, "gid": r.uid,
                "real_name": r.realName, "home": r.home, "shell": r.shell,
                "password_changed_at": r.passwordChangedAt.map(Output.time) as Any? ?? NSNull(),
                "password_max_age_days": r.passwordMaxAge.map { $0 / 86400 } as Any? ?? NSNull(),
                "effective_max_age_days": r.effectiveMaxAge / 86400, "must_change_password": r.mustChangePassword,
                "password_state": r.passwordState.description, "ssh_keys": r.sshKeys,
            ])
            return
        }
        let rows: [(String, String)] = [
            ("username", r.username), ("login", Output.yesNo(r.login)),
            ("uid", r.uid == 0 ? "-" : "\(r.uid)"), ("gid", r.uid == 0 ? "-" : "\(r.uid)"),
            ("real name", r.realName.isEmpty ? "-" : r.realName), ("home", r.home), ("shell", r.shell),
            ("password changed", Output.time(r.passwordChangedAt)),
            ("password max age", r.passwordMaxAge.map(age) ?? "default (\(age(r.effectiveMaxAge)))"),
            ("password", r.passwordState.description), ("ssh keys", "\(r.sshKeys.count)"),
        ]
        let width = rows.map(\.0.count).max() ?? 0
        for (k, v) in rows { print(k.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + v) }
    }
}
