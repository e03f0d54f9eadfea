import ArgumentParser
import Glibc
import Logging
import VouchCore
import VouchProtocol
import VouchServer

@main
struct Vouchd: AsyncParsableCommand {
    static let defaultConfigPath = "/etc/vouch/vouchd.conf"

    static let configuration = CommandConfiguration(
        commandName: "vouchd",
        abstract: "The vouch authentication daemon.",
        discussion: """
            vouchd keeps users in SQLite, serves them from memory on a Unix socket, and writes \
            every change to the database before it answers. Configuration: \(defaultConfigPath) \
            (see vouchd.conf for every key). SIGHUP re-reads it; SIGTERM stops gracefully.
            """,
        version: VouchVersion.string,
        subcommands: [Migrate.self]
    )

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Print the effective configuration and exit (like sshd -T).")
    var checkConfig = false

    @Option(help: "Where logs go: automatic, journal or stderr.")
    var logTo: String = "automatic"

    func run() async throws {
        try await Serve(options: options, checkConfig: checkConfig, logTo: logTo).run()
    }
}

/// Options shared by `vouchd` and `vouchd migrate`.
struct ConfigOptions: ParsableArguments {
    @Option(help: "Configuration file (default: \(Vouchd.defaultConfigPath) if it exists).")
    var config: String?

    @Option(help: "Unix socket to listen on (overrides socket_path).")
    var socket: String?

    @Option(help: "SQLite database (overrides database_path).")
    var database: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical (overrides log_level).")
    var logLevel: String?

    /// The effective configuration, the file it came from, and the
    /// command-line overrides (re-applied at every reload).
    func load() throws -> (VouchConfig, String?, ConfigOverrides) {
        var path = config
        if path == nil, access(Vouchd.defaultConfigPath, F_OK) == 0 { path = Vouchd.defaultConfigPath }
        var cfg = VouchConfig()
        if let path {
            try FileSafety.refuseWritableByOthers(path, what: "config file")
            do {
                cfg = try ConfigLoader.load(path: path)
            } catch {
                throw Failure(error.description)
            }
        }
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw Failure(
                "--log-level: \"\(logLevel)\" is not one of trace, debug, info, notice, warning, error, critical")
        }
        let overrides = ConfigOverrides(socketPath: socket, databasePath: database, logLevel: logLevel)
        return (overrides.applied(to: cfg), path, overrides)
    }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum FileSafety {
    /// Refuses a file that someone other than its owner may write.
    static func refuseWritableByOthers(_ path: String, what: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else { return }  // a missing file is reported by whoever opens it
        // Only regular files hold content someone else could plant (/dev/null is fine).
        if st.st_mode & S_IFMT == S_IFREG, st.st_mode & (S_IWGRP | S_IWOTH) != 0 {
            throw Failure(
                "\(path): \(what) is group- or world-writable (mode \(String(st.st_mode & 0o777, radix: 8))); refusing to use it"
            )
        }
    }
}

extension FileSafety {
    /// Checks the database and its `-wal` and `-shm` files before the daemon
    /// opens them: a group- or world-writable one is refused; one readable
    /// by group or others (every password hash in it) is made owner-only
    /// with a warning, or refused when its mode cannot be changed.  A 0-byte
    /// database is refused: more likely a failed copy than a new install
    /// (`vouchd migrate` initialises one; a missing file is created).
    static func checkDatabase(_ path: String, logger: Logger) throws {
        for file in [path, path + "-wal", path + "-shm"] {
            try refuseWritableByOthers(file, what: file == path ? "database" : "database file")
            var st = stat()
            guard stat(file, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
            if file == path, st.st_size == 0 {
                throw Failure(
                    "\(path): the database is empty (0 bytes), more likely a failed copy than a new database; refusing to use it (restore it, remove it to start a new one, or run `vouchd migrate` to initialise it)"
                )
            }
            let mode = st.st_mode & 0o7777
            guard mode & (S_IRGRP | S_IROTH) != 0 else { continue }
            let octal = String(mode, radix: 8)
            guard chmod(file, mode & 0o7700) == 0 else {
                throw Failure(
                    "\(file): database file is readable by group or others (mode \(octal)) and its mode cannot be changed (\(String(cString: strerror(errno)))); refusing to use it"
                )
            }
            logger.warning(
                "database file was readable by group or others; made owner-only (its password hashes may have been read)",
                metadata: ["file": "\(file)", "old_mode": "\(octal)", "new_mode": "\(String(mode & 0o7700, radix: 8))"])
        }
    }
}

func exitWith(_ error: any Error) -> Never {
    let text = (error as? CustomStringConvertible)?.description ?? "\(error)"
    let line = Array("vouchd: \(text)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(1)
}

/// Runs the daemon.
struct Serve {
    let options: ConfigOptions
    let checkConfig: Bool
    let logTo: String

    func run() async throws {
        let cfg: VouchConfig
        let path: String?
        let overrides: ConfigOverrides
        do {
            (cfg, path, overrides) = try options.load()
        } catch {
            exitWith(error)
        }
        if checkConfig {
            print("# effective configuration" + (path.map { " from \($0)" } ?? " (built-in defaults)"))
            print(ConfigLoader.render(cfg), terminator: "")
            return
        }
        let destination: LoggingSetup.Destination
        switch logTo {
        case "automatic": destination = .automatic
        case "journal": destination = .journal
        case "stderr": destination = .stderr
        default: exitWith(Failure("--log-to: \"\(logTo)\" is not one of automatic, journal, stderr"))
        }
        LoggingSetup.bootstrap(level: cfg.loggerLevel, destination: destination)
        let logger = Logger(label: "vouchd")
        do {
            try FileSafety.checkDatabase(cfg.databasePath, logger: logger)
            try await VouchDaemon.run(config: cfg, configPath: path, overrides: overrides, logger: logger)
        } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            exitWith(error)
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Run pending database migrations and exit.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        do {
            let (cfg, _, _) = try options.load()
            LoggingSetup.bootstrap(level: cfg.loggerLevel, destination: .stderr)
            print(try VouchDaemon.migrate(databasePath: cfg.databasePath, logger: Logger(label: "vouchd")))
        } catch {
            exitWith(error)
        }
    }
}
