import Glibc
import Testing

@testable import VouchCore

@Suite struct ConfigLoaderTests {
    private func parse(_ text: String) throws(ConfigError) -> VouchConfig {
        try ConfigLoader.parse(text, fileName: "vouchd.conf")
    }

    private func error(_ text: String) -> String? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error.description
        }
    }

    /// The repository's etc/vouch/vouchd.conf, found from this file's path.
    private static var shippedConfigPath: String {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/VouchCoreTests/ConfigLoaderTests.swift
        return parts.joined(separator: "/") + "/etc/vouch/vouchd.conf"
    }

    @Test func emptyTextGivesDefaults() throws {
        #expect(try parse("") == VouchConfig())
        #expect(try parse("# only a comment\n\n   \n\t# indented comment\n") == VouchConfig())
    }

    @Test func shippedConfigMatchesDefaults() throws {
        let config = try ConfigLoader.load(path: Self.shippedConfigPath)
        #expect(config == VouchConfig())
    }

    @Test func shippedConfigSetsEveryKey() throws {
        let fd = open(Self.shippedConfigPath, O_RDONLY)
        #expect(fd >= 0)
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        close(fd)
        let text = String(decoding: bytes, as: UTF8.self)
        let setKeys = text.split(separator: "\n").compactMap { line -> String? in
            guard !line.hasPrefix("#"), let eq = line.firstIndex(of: "=") else { return nil }
            return String(ConfigLoader.trim(line[..<eq]))
        }
        #expect(setKeys == ConfigLoader.keyNames)
    }

    @Test func everyKeyParses() throws {
        let text = """
            socket_path = /tmp/v/vouchd.sock
            socket_mode = 0600
            socket_group = wheel
            admin_group = none
            database_path = /tmp/v/vouch.db
            database_busy_timeout = 2s
            argon2_memory_kib = 65536
            argon2_iterations = 3
            argon2_parallelism = 4
            password_min_length = 12
            password_refuse_identity = no
            session_ttl = 7d
            session_sliding = yes
            reset_token_ttl = 30m
            verify_token_ttl = 2h
            revoke_sessions_on_password_change = false
            hooks_dir = none
            hook_timeout = 45
            hook_concurrency = 2
            worker_threads = 3
            worker_queue_limit = 10
            worker_queue_per_source = 4
            max_frame_bytes = 1024
            max_connections = 100
            max_connections_per_uid = 5
            reserved_connections = 3
            idle_timeout = 90s
            max_requests_in_flight = 8
            lockout_deny = 0
            lockout_fail_interval = 1h
            lockout_unlock_time = 0
            lockout_exempt_superuser = no
            login_failures_per_minute = 7
            token_requests_per_minute = 4
            token_requests_per_account_per_hour = 2
            token_failures_per_minute = 6
            userdb = yes
            userdb_socket = /tmp/v/userdb.sock
            uid_range = 200000-299999
            login_home = /srv/home/%u
            login_shell = /bin/sh
            password_max_age = 90d
            log_level = debug
            log_unknown_usernames = yes
            """
        let c = try parse(text)
        #expect(c.socketPath == "/tmp/v/vouchd.sock")
        #expect(c.socketMode == 0o600)
        #expect(c.socketGroup == "wheel")
        #expect(c.adminGroup == nil)
        #expect(c.databasePath == "/tmp/v/vouch.db")
        #expect(c.databaseBusyTimeout == 2)
        #expect(c.argon2.memoryKiB == 65536)
        #expect(c.argon2.iterations == 3)
        #expect(c.argon2.parallelism == 4)
        #expect(c.passwordMinLength == 12)
        #expect(c.passwordRefuseIdentity == false)
        #expect(c.sessionTTL == 7 * 86400)
        #expect(c.sessionSliding == true)
        #expect(c.resetTokenTTL == 1800)
        #expect(c.verifyTokenTTL == 7200)
        #expect(c.revokeSessionsOnPasswordChange == false)
        #expect(c.hooksDir == nil)
        #expect(c.hookTimeout == 45)
        #expect(c.hookConcurrency == 2)
        #expect(c.workerThreads == 3)
        #expect(c.workerQueueLimit == 10)
        #expect(c.workerQueuePerSource == 4)
        #expect(c.maxFrameBytes == 1024)
        #expect(c.maxConnections == 100)
        #expect(c.maxConnectionsPerUID == 5)
        #expect(c.reservedConnections == 3)
        #expect(c.idleTimeout == 90)
        #expect(c.maxRequestsInFlight == 8)
        #expect(c.lockoutDeny == 0)
        #expect(c.lockoutFailInterval == 3600)
        #expect(c.lockoutUnlockTime == 0)
        #expect(c.lockoutExemptSuperuser == false)
        #expect(c.loginFailuresPerMinute == 7)
        #expect(c.tokenRequestsPerMinute == 4)
        #expect(c.tokenRequestsPerAccountPerHour == 2)
        #expect(c.tokenFailuresPerMinute == 6)
        #expect(c.logLevel == "debug")
        #expect(c.loggerLevel == .debug)
        #expect(c.logUnknownUsernames)
        // Every key was set: rendering lists exactly these keys.
        let renderedKeys = ConfigLoader.render(c).split(separator: "\n").map {
            String($0.prefix { $0 != " " })
        }
        #expect(renderedKeys == ConfigLoader.keyNames)
        #expect(c.userdb == "yes")
        #expect(c.userdbSocket == "/tmp/v/userdb.sock")
        #expect(c.uidRange == 200000...299999)
        #expect(c.loginHome == "/srv/home/%u")
        #expect(c.loginShell == "/bin/sh")
        #expect(c.passwordMaxAge == 90 * 86400)
        #expect(ConfigLoader.keyNames.count == 44)
    }

    @Test func syntaxVariants() throws {
        let c = try parse(
            "  socket_mode=660\r\nsession_sliding =TRUE\n\tlog_level\t=\twarning  \nsocket_group = none")
        #expect(c.socketMode == 0o660)
        #expect(c.sessionSliding)
        #expect(c.logLevel == "warning")
        #expect(c.socketGroup == nil)
    }

    @Test(arguments: [
        ("0", Int64(0)), ("30s", 30), ("15m", 900), ("24h", 86400), ("7d", 604_800), ("45", 45),
    ])
    func durations(text: String, seconds: Int64) {
        #expect(ConfigLoader.parseDuration(text) == seconds)
    }

    @Test(arguments: ["", "s", "1w", "1.5h", "-1s", "+3", "1 h", "h1", "١٢"])
    func badDurations(text: String) {
        #expect(ConfigLoader.parseDuration(text) == nil)
    }

    @Test func renderedDurationsAreShortest() {
        #expect(ConfigLoader.renderDuration(0) == "0")
        #expect(ConfigLoader.renderDuration(45) == "45s")
        #expect(ConfigLoader.renderDuration(900) == "15m")
        #expect(ConfigLoader.renderDuration(3600) == "1h")
        #expect(ConfigLoader.renderDuration(86400) == "1d")
        #expect(ConfigLoader.renderDuration(90) == "90s")
    }

    @Test func errorMessages() {
        let cases: [(String, String)] = [
            ("# x\nsockt_path = /x", #"vouchd.conf:2: unknown key "sockt_path""#),
            (
                "socket_path = /a\n\nsocket_path = /b",
                #"vouchd.conf:3: duplicate key "socket_path" (first set on line 1)"#
            ),
            ("socket_path /a", #"vouchd.conf:1: expected "key = value", got "socket_path /a""#),
            ("= 5", #"vouchd.conf:1: expected "key = value", got "= 5""#),
            ("socket_path =", "vouchd.conf:1: socket_path: missing value"),
            (
                "\n\n\n\n\n\nsocket_mode = 0999",
                #"vouchd.conf:7: socket_mode: "0999" is not an octal mode"#
            ),
            (
                "socket_mode = 01777", #"vouchd.conf:1: socket_mode: "01777" is out of range (0000...0777)"#
            ),
            ("socket_mode = rw", #"vouchd.conf:1: socket_mode: "rw" is not an octal mode"#),
            (
                "socket_path = run/v.sock",
                #"vouchd.conf:1: socket_path: "run/v.sock" is not an absolute path"#
            ),
            ("database_path = none", #"vouchd.conf:1: database_path: "none" is not an absolute path"#),
            ("hooks_dir = hooks", #"vouchd.conf:1: hooks_dir: "hooks" is not an absolute path"#),
            (
                "socket_group = bad group",
                #"vouchd.conf:1: socket_group: "bad group" is not a valid group name"#
            ),
            (
                "admin_group = 9admins", #"vouchd.conf:1: admin_group: "9admins" is not a valid group name"#
            ),
            (
                "password_min_length = 200",
                #"vouchd.conf:1: password_min_length: "200" is out of range (1...128)"#
            ),
            (
                "password_min_length = 0",
                #"vouchd.conf:1: password_min_length: "0" is out of range (1...128)"#
            ),
            (
                "password_min_length = -3",
                #"vouchd.conf:1: password_min_length: "-3" is not a whole number"#
            ),
            ("max_connections = 10k", #"vouchd.conf:1: max_connections: "10k" is not a whole number"#),
            (
                "max_frame_bytes = 512",
                #"vouchd.conf:1: max_frame_bytes: "512" is out of range (1024...16777216)"#
            ),
            (
                "max_frame_bytes = 99999999999999999999999",
                #"vouchd.conf:1: max_frame_bytes: "99999999999999999999999" is out of range (1024...16777216)"#
            ),
            (
                "session_ttl = 3w",
                #"vouchd.conf:1: session_ttl: "3w" is not a duration (like 30s, 15m, 24h, 7d)"#
            ),
            ("session_ttl = 0", #"vouchd.conf:1: session_ttl: "0" is out of range (1s...3650d)"#),
            ("hook_timeout = 2d", #"vouchd.conf:1: hook_timeout: "2d" is out of range (1s...1d)"#),
            (
                "session_ttl = 99999999999999999999d",
                #"vouchd.conf:1: session_ttl: "99999999999999999999d" is out of range (1s...3650d)"#
            ),
            (
                "session_sliding = maybe",
                #"vouchd.conf:1: session_sliding: "maybe" is not a boolean (yes, no, true, false)"#
            ),
            (
                "log_level = loud",
                #"vouchd.conf:1: log_level: "loud" is not one of trace, debug, info, notice, warning, error, critical"#
            ),
            (
                "argon2_parallelism = 4\nargon2_memory_kib = 16",
                "vouchd.conf:2: argon2_memory_kib: argon2_memory_kib (16) must be at least 8 × argon2_parallelism (4)",
            ),
            (
                "argon2_memory_kib = 8\nargon2_parallelism = 2",
                "vouchd.conf:1: argon2_memory_kib: argon2_memory_kib (8) must be at least 8 × argon2_parallelism (2)",
            ),
        ]
        for (text, message) in cases {
            #expect(error(text) == message, "\(text)")
        }
    }

    @Test func socketPathMustFitSunPath() {
        let long = "/" + String(repeating: "s", count: 107)
        #expect(
            error("socket_path = \(long)")
                == "vouchd.conf:1: socket_path: \"\(long)\" is longer than 107 bytes")
        #expect((try? parse("socket_path = \(long.dropLast())"))?.socketPath == String(long.dropLast()))
    }

    @Test func errorCarriesLineAndKey() {
        do {
            _ = try parse("\nlog_level = loud")
            Issue.record("no error")
        } catch {
            #expect(error.fileName == "vouchd.conf")
            #expect(error.line == 2)
            #expect(error.key == "log_level")
        }
    }

    @Test func missingFileIsAnError() {
        let path = "/nonexistent-vouch-test/vouchd.conf"
        #expect(throws: ConfigError.self) { try ConfigLoader.load(path: path) }
        do {
            _ = try ConfigLoader.load(path: path)
        } catch {
            #expect(error.description == "\(path): cannot open: No such file or directory")
            #expect(error.line == nil)
        }
    }

    @Test func directoryIsUnreadable() {
        do {
            _ = try ConfigLoader.load(path: "/")
            Issue.record("no error")
        } catch {
            #expect(error.description == "/: cannot read: Is a directory")
        }
    }

    @Test func loadReportsPathInErrors() throws {
        let path = "/tmp/vouch-config-test-\(getpid()).conf"
        let text = "log_level = debug\nsockt_path = /x\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        #expect(fd >= 0)
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        defer { unlink(path) }
        do {
            _ = try ConfigLoader.load(path: path)
            Issue.record("no error")
        } catch {
            #expect(error.description == "\(path):2: unknown key \"sockt_path\"")
        }
    }

    @Test func renderRoundTripsDefaults() throws {
        let c = VouchConfig()
        let text = ConfigLoader.render(c)
        #expect(try parse(text) == c)
        #expect(text.contains("socket_mode = 0660\n"))
        #expect(text.contains("session_ttl = 1d\n"))
        #expect(text.contains("hooks_dir = /etc/vouch/hooks.d\n"))
        #expect(text.split(separator: "\n").count == ConfigLoader.keyNames.count)
    }

    @Test func renderRoundTripsChangedValues() throws {
        var c = VouchConfig()
        c.socketPath = "/srv/vouch/s.sock"
        c.socketMode = 0o600
        c.socketGroup = nil
        c.adminGroup = "wheel"
        c.databasePath = "/srv/vouch/db"
        c.argon2.memoryKiB = 8
        c.argon2.iterations = 1
        c.argon2.parallelism = 1
        c.passwordMinLength = 128
        c.sessionTTL = 61
        c.sessionSliding = true
        c.resetTokenTTL = 120
        c.verifyTokenTTL = 2 * 86400
        c.revokeSessionsOnPasswordChange = false
        c.hooksDir = nil
        c.hookTimeout = 1
        c.hookConcurrency = 1
        c.workerThreads = 16
        c.workerQueueLimit = 0
        c.maxFrameBytes = 16 << 20
        c.maxConnections = 1
        c.maxConnectionsPerUID = 1
        c.idleTimeout = 3601
        c.maxRequestsInFlight = 1
        c.lockoutDeny = 3
        c.lockoutFailInterval = 900
        c.lockoutUnlockTime = 0
        c.lockoutExemptSuperuser = false
        c.loginFailuresPerMinute = 0
        c.logLevel = "critical"
        let text = ConfigLoader.render(c)
        #expect(try parse(text) == c)
        #expect(text.contains("socket_mode = 0600\n"))
        #expect(text.contains("socket_group = none\n"))
        #expect(text.contains("session_ttl = 61s\n"))
        #expect(text.contains("lockout_unlock_time = 0\n"))
        #expect(text.contains("session_sliding = yes\n"))
    }
}
