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

    @Option(help: .hidden)
    var testClockFile: String?

    func run() async throws {
        try await Serve(options: options, checkConfig: checkConfig, logTo: logTo, testClockFile: testClockFile).run()
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
    /// Tests of expiry: the clock's offset (ms) is read from this file.
    let testClockFile: String?

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
            try FileSafety.refuseWritableByOthers(cfg.databasePath, what: "database")
            let clock: any VouchClock = testClockFile.map { OffsetFileClock(path: $0) } ?? SystemClock()
            try await VouchDaemon.run(
                config: cfg, configPath: path, overrides: overrides, clock: clock, logger: logger)
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
