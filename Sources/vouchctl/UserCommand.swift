import ArgumentParser
import Foundation
import VouchClient
import VouchProtocol

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Create, list, show, change and delete users.",
        subcommands: [
            CreateUser.self, ListUsers.self, ShowUser.self, ChangePassword.self, ChangePermissions.self,
            UpdateUser.self, DeleteUser.self, RevokeSessions.self, RequestVerify.self, VerifyEmail.self,
            ExportUsers.self, ImportUsers.self, UnlockUser.self, LinuxAccount.self, Keys.self, ExpirePassword.self,
            PasswordMaxAge.self,
        ]
    )
}

/// A user named on the command line: an id, a uuid or a username (vouchd resolves it).
func selector(_ text: String) -> UserSelector { .any(text) }

struct CreateUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a user.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Username (prompted for on a terminal when missing).") var username: String?
    @Option(help: "Email address.") var email: String?
    @Flag(help: "Read the password from the first line of standard input.") var passwordStdin = false
    @Option(help: "The password (lands in shell history: prefer --password-stdin).") var password: String?
    @Flag(help: "Make the user an admin.") var admin = false
    @Flag(help: "Make the user a superuser.") var superuser = false
    @Flag(help: "Create the user inactive.") var inactive = false
    @Flag(help: "Make the user a Linux login (see docs/LINUX-LOGINS.md).") var login = false
    @Flag(help: "Print the user as JSON.") var json = false

    func run() async throws {
        var username = self.username
        var email = self.email
        if username == nil {
            guard PasswordInput.stdinIsTerminal, !passwordStdin else {
                throw CLIFailure.usage("--username is required")
            }
            username = PasswordInput.promptLine("Username: ")
            if email == nil, let e = PasswordInput.promptLine("Email (optional): "), !e.isEmpty { email = e }
        }
        guard let username, !username.isEmpty else { throw CLIFailure.usage("--username is required") }
        let secret = try PasswordInput.obtain(fromStdin: passwordStdin, argument: password, confirm: true)
        var flags: AccountFlags = inactive ? [] : .active
        if admin { flags.insert(.admin) }
        if superuser { flags.insert(.superuser) }
        let client = try await global.connect()
        defer { Task { await client.close() } }
        let user = try await call { () async throws(VouchClientError) in
            try await client.createUser(username: username, email: email, password: secret, flags: flags)
        }
        if login {
            do {
                _ = try await client.setLinuxAccount(.id(user.id), LinuxAccountChange(login: true))
            } catch {
                throw CLIFailure.refused(
                    "Created user \(user.id), but not as a login: \(CLIFailure.from(error).message)")
            }
        }
        if json { Output.printJSON(Output.json(user)) } else { print("Created user \(user.id)") }
    }
}

struct ListUsers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List users, a page at a time.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Users per page (1-1000).") var limit: Int = 20
    @Option(help: "Page number, from 1.") var page: Int = 1
    @Option(
        name: .customLong("order-by"), parsing: .unconditional,
        help: "username, id, created or last-login; prefix with - for descending.")
    var orderBy: String = "username"
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        guard (1...1000).contains(limit) else { throw ValidationError("--limit must be between 1 and 1000") }
        guard page >= 1 else { throw ValidationError("--page must be at least 1") }
        guard Self.order(orderBy) != nil else {
            throw ValidationError("--order-by must be one of username, id, created, last-login (with - for descending)")
        }
    }

    static func order(_ text: String) -> (UserSortOrder, Bool)? {
        let descending = text.hasPrefix("-")
        switch descending ? String(text.dropFirst()) : text {
        case "username": return (.username, descending)
        case "id": return (.id, descending)
        case "created": return (.created, descending)
        case "last-login", "last_login": return (.lastLogin, descending)
        default: return nil
        }
    }

    func run() async throws {
        let (order, descending) = Self.order(orderBy)!
        let client = try await global.connect()
        defer { Task { await client.close() } }
        let result = try await call { () async throws(VouchClientError) in
            try await client.users(limit: UInt32(limit), page: UInt32(page), order: order, descending: descending)
        }
        if json {
            Output.printJSON([
                "total": result.total, "page": page, "limit": limit, "users": result.users.map(Output.json),
            ])
            return
        }
        guard !result.users.isEmpty else {
            print(result.total == 0 ? "No users" : "No users on page \(page) (\(result.total) in all)")
            return
        }
        Output.table(
            ["ID", "USERNAME", "EMAIL", "ACTIVE", "ADMIN", "SUPERUSER", "VERIFIED", "LAST LOGIN"],
            result.users.map { u in
                [
                    "\(u.id)", u.username, u.email ?? "-", Output.yesNo(u.flags.contains(.active)),
                    Output.yesNo(u.flags.contains(.admin)), Output.yesNo(u.flags.contains(.superuser)),
                    Output.yesNo(u.flags.contains(.verified)), Output.time(u.lastLogin),
                ]
            })
    }
}

struct ShowUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one user.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The user: username, id or uuid.") var user: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let client = try await global.connect()
        defer { Task { await client.close() } }
        let record = try await call { () async throws(VouchClientError) in try await client.user(selector(user)) }
        if json { Output.printJSON(Output.json(record)) } else { Output.printUser(record) }
    }
}

struct ChangePassword: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "change-password", abstract: "Set a user's password (admin; no old password needed).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The user: username, id or uuid.") var user: String
    @Flag(help: "Read the new password from the first line of standard input.") var passwordStdin = false
    @Option(help: "The new password (lands in shell history).") var password: String?

    func run() async throws {
        let secret = try PasswordInput.obtain(
            fromStdin: passwordStdin, argument: password, confirm: true, label: "New password")
        let client = try await global.connect()
        defer { Task { await client.close() } }
        try await call { () async throws(VouchClientError) in
            try await client.setPassword(selector(user), password: secret)
        }
        print("Password changed for \(user)")
    }
}

struct ChangePermissions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "change-permissions", abstract: "Set a user's active, admin, superuser and verified flags.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The user: username, id or uuid.") var user: String
    @Option(help: "true or false") var admin: Bool?
    @Option(help: "true or false") var superuser: Bool?
    @Option(help: "true or false") var active: Bool?
    @Option(help: "true or false") var verified: Bool?
    @Option(help: "true or false: a Linux login (see docs/LINUX-LOGINS.md)") var login: Bool?
    @Flag(help: "Print the user as JSON.") var json = false

    func run() async throws {
        if let login {
            let client = try await global.connect()
            defer { Task { await client.close() } }
            let record = try await call { () async throws(VouchClientError) in
                try await client.setLinuxAccount(selector(user), LinuxAccountChange(login: login))
            }
            if !json { print("\(record.username): login \(Output.yesNo(record.login))") }
            if [admin, superuser, active, verified].allSatisfy({ $0 == nil }) { return }
        }
        var mask: AccountFlags = []
        var values: AccountFlags = []
        for (value, flag) in [
            (admin, AccountFlags.admin), (superuser, .superuser), (active, .active), (verified, .verified),
        ] {
            guard let value else { continue }
            mask.insert(flag)
            if value { values.insert(flag) }
        }
        let client = try await global.connect()
        defer { Task { await client.close() } }
        let result = try await call { () async throws(VouchClientError) in
            try await client.updateUser(selector(user), set: mask, to: values)
        }
        if json {
            Output.printJSON(["user": Output.json(result.user), "changed": result.changed])
        } else if result.changed.isEmpty {
            print("No changes")
        } else {
            print("Updated \(result.user.username): \(result.changed.joined(separator: ", "))")
        }
    }
}

struct UpdateUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "Change a user's email (which clears its verified flag).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The user: username, id or uuid.") var user: String
    @Option(help: "The new email address.") var email: String?
    @Flag(help: "Remove the email address.") var noEmail = false
    @Flag(help: "Print the user as JSON.") var json = false

    func validate() throws {
        guard (email != nil) != noEmail else { throw ValidationError("give exactly one of --email or --no-email") }
    }

    func run() async throws {
        let client = try await global.connect()
        defer { Task { await client.close() } }
        let change: String?? = noEmail ? .some(nil) : .some(email)
        let result = try await call { () async throws(VouchClientError) in
            try await client.updateUser(selector(user), email: change)
        }
        if json {
            Output.printJSON(["user": Output.json(result.user), "changed": result.changed])
        } else if result.changed.isEmpty {
            print("No changes")
        } else {
            print("Updated \(result.user.username): \(result.changed.joined(separator: ", "))")
        }
    }
}

struct DeleteUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a user.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The user: username, id or uuid.") var user: String
    @Flag(name: [.short, .long], help: "Do not ask for confirmation.") var yes = false

    func run() async throws {
        if !yes {
            guard PasswordInput.stdinIsTerminal else {
                throw CLIFailure.usage("refusing to delete \(user) without --yes (stdin is not a terminal)")
            }
            let answer = PasswordInput.promptLine("Delete user \(user)? [y/N] ")?.lowercased()
            guard answer == "y" || answer == "yes" else { throw CLIFailure.refused("Not deleted") }
        }
        let client = try await global.connect()
        defer { Task { await client.close() } }
        try await call { () async throws(VouchClientError) in try await client.deleteUser(selector(user)) }
        print("Deleted user \(user)")
    }
}
