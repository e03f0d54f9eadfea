import Glibc

/// A configuration problem.  `description` is one line naming the file,
/// the line and the key, e.g. `vouchd.conf:12: unknown key "sockt_path"`.
public struct ConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file name as given to `ConfigLoader` (a path for `load(path:)`).
    public let fileName: String
    /// 1-based line of the problem; nil when it concerns the whole file.
    public let line: Int?
    /// The key concerned, if any.
    public let key: String?
    /// The one-line message.
    public let description: String

    public init(fileName: String, line: Int?, key: String?, description: String) {
        self.fileName = fileName
        self.line = line
        self.key = key
        self.description = description
    }

    static func file(_ fileName: String, _ message: String) -> ConfigError {
        ConfigError(fileName: fileName, line: nil, key: nil, description: "\(fileName): \(message)")
    }

    static func line(_ fileName: String, _ line: Int, key: String?, _ message: String) -> ConfigError {
        ConfigError(
            fileName: fileName, line: line, key: key, description: "\(fileName):\(line): \(message)")
    }
}

/// Reads, checks and renders `vouchd.conf`.
///
/// The format: one `key = value` per line; blank lines and lines whose
/// first non-blank character is `#` are ignored (no trailing comments).
/// Values: durations `30s`, `15m`, `24h`, `7d` or plain seconds; booleans
/// `yes`/`no`/`true`/`false`; octal modes like `0660`; `none` for an unset
/// optional string.  Keys left out keep their defaults (`VouchConfig()`).
/// Unknown keys, duplicate keys and bad values are errors.
public enum ConfigLoader {
    /// Largest configuration file read, in bytes.
    public static let maximumFileSize = 1 << 20

    /// Reads and parses the file at `path`; errors name `path`.
    public static func load(path: String) throws(ConfigError) -> VouchConfig {
        let text = try readFile(path)
        return try parse(text, fileName: path)
    }

    /// Parses configuration text; errors name `fileName`.
    public static func parse(_ text: String, fileName: String) throws(ConfigError) -> VouchConfig {
        var config = VouchConfig()
        var seen: [String: Int] = [:]
        let table = Dictionary(uniqueKeysWithValues: keys.map { ($0.name, $0) })
        var lineNumber = 0
        for rawLine in text.split(
            omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        {
            lineNumber += 1
            var line = Substring(rawLine)
            if line.last == "\r" { line = line.dropLast() }
            let trimmed = trim(line)
            if trimmed.isEmpty || trimmed.first == "#" { continue }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw .line(fileName, lineNumber, key: nil, "expected \"key = value\", got \"\(trimmed)\"")
            }
            let name = String(trim(trimmed[..<equals]))
            let value = String(trim(trimmed[trimmed.index(after: equals)...]))
            if name.isEmpty {
                throw .line(fileName, lineNumber, key: nil, "expected \"key = value\", got \"\(trimmed)\"")
            }
            guard let key = table[name] else {
                throw .line(fileName, lineNumber, key: name, "unknown key \"\(name)\"")
            }
            if let first = seen[name] {
                throw .line(
                    fileName, lineNumber, key: name, "duplicate key \"\(name)\" (first set on line \(first))")
            }
            seen[name] = lineNumber
            if value.isEmpty {
                throw .line(fileName, lineNumber, key: name, "\(name): missing value")
            }
            do {
                try key.apply(&config, value)
            } catch {
                throw .line(fileName, lineNumber, key: name, "\(name): \(error.message)")
            }
        }
        try crossCheck(config, seen: seen, fileName: fileName)
        return config
    }

    /// Every key with its effective value, one `key = value` per line in
    /// the file's syntax (for `vouchd --check-config`).  `parse` of the
    /// result gives `config` back (Argon2 salt and hash lengths, which are
    /// not configurable, excepted).
    public static func render(_ config: VouchConfig) -> String {
        var out = ""
        for key in keys {
            out += "\(key.name) = \(key.render(config))\n"
        }
        return out
    }

    /// Every key, in the order `render` prints them.
    public static var keyNames: [String] { keys.map(\.name) }

    // MARK: - Checks involving several keys

    private static func crossCheck(
        _ config: VouchConfig, seen: [String: Int], fileName: String
    ) throws(ConfigError) {
        let argon2 = config.argon2
        if UInt64(argon2.memoryKiB) < 8 * UInt64(argon2.parallelism) {
            let key = seen["argon2_memory_kib"] != nil ? "argon2_memory_kib" : "argon2_parallelism"
            let message =
                "\(key): argon2_memory_kib (\(argon2.memoryKiB)) must be at least 8 × argon2_parallelism (\(argon2.parallelism))"
            if let line = seen[key] {
                throw .line(fileName, line, key: key, message)
            }
            throw ConfigError(
                fileName: fileName, line: nil, key: key, description: "\(fileName): \(message)")
        }
    }

    // MARK: - Keys

    struct ValueError: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    struct Key {
        let name: String
        let apply: (inout VouchConfig, String) throws(ValueError) -> Void
        let render: (VouchConfig) -> String
    }

    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
    static let maximumDuration: Int64 = 3650 * 86400

    /// The keys in the order of the shipped vouchd.conf.
    static var keys: [Key] {
        [
            .path("socket_path", \.socketPath, maximumBytes: 107),
            .mode("socket_mode", \.socketMode),
            .group("socket_group", \.socketGroup),
            .group("admin_group", \.adminGroup),
            .path("database_path", \.databasePath),
            .duration("database_busy_timeout", \.databaseBusyTimeout, 0...600),
            .integer("argon2_memory_kib", \.argon2.memoryKiB, 8...4_194_304),
            .integer("argon2_iterations", \.argon2.iterations, 1...1000),
            .integer("argon2_parallelism", \.argon2.parallelism, 1...255),
            .integer("password_min_length", \.passwordMinLength, 1...128),
            .boolean("password_refuse_identity", \.passwordRefuseIdentity),
            .duration("session_ttl", \.sessionTTL, 1...maximumDuration),
            .boolean("session_sliding", \.sessionSliding),
            .duration("reset_token_ttl", \.resetTokenTTL, 1...maximumDuration),
            .duration("verify_token_ttl", \.verifyTokenTTL, 1...maximumDuration),
            .boolean("revoke_sessions_on_password_change", \.revokeSessionsOnPasswordChange),
            .optionalPath("hooks_dir", \.hooksDir),
            .duration("hook_timeout", \.hookTimeout, 1...86400),
            .integer("hook_concurrency", \.hookConcurrency, 1...1024),
            .integer("worker_threads", \.workerThreads, 0...1024),
            .integer("worker_queue_limit", \.workerQueueLimit, 0...1_000_000),
            .integer("worker_queue_per_source", \.workerQueuePerSource, 1...1_000_000),
            .integer("max_frame_bytes", \.maxFrameBytes, 1024...(16 << 20)),
            .integer("max_connections", \.maxConnections, 1...1_000_000),
            .integer("max_connections_per_uid", \.maxConnectionsPerUID, 1...1_000_000),
            .integer("reserved_connections", \.reservedConnections, 0...1_000_000),
            .duration("idle_timeout", \.idleTimeout, 1...maximumDuration),
            .integer("max_requests_in_flight", \.maxRequestsInFlight, 1...1_000_000),
            .integer("lockout_deny", \.lockoutDeny, 0...1_000_000),
            .duration("lockout_fail_interval", \.lockoutFailInterval, 1...maximumDuration),
            .duration("lockout_unlock_time", \.lockoutUnlockTime, 0...maximumDuration),
            .boolean("lockout_exempt_superuser", \.lockoutExemptSuperuser),
            .integer("login_failures_per_minute", \.loginFailuresPerMinute, 0...1_000_000),
            .integer("token_requests_per_minute", \.tokenRequestsPerMinute, 0...1_000_000),
            .integer("token_requests_per_account_per_hour", \.tokenRequestsPerAccountPerHour, 0...1_000_000),
            .integer("token_failures_per_minute", \.tokenFailuresPerMinute, 0...1_000_000),
            .choice("userdb", \.userdb, ["auto", "yes", "no"]),
            .path("userdb_socket", \.userdbSocket, maximumBytes: 107),
            .uidRange("uid_range", \.uidRange),
            .homeTemplate("login_home", \.loginHome),
            .path("login_shell", \.loginShell),
            .duration("password_max_age", \.passwordMaxAge, 0...maximumDuration),
            .choice("log_level", \.logLevel, logLevels),
            .boolean("log_unknown_usernames", \.logUnknownUsernames),
        ]
    }

    // MARK: - Reading files

    private static func readFile(_ path: String) throws(ConfigError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .file(path, "cannot open: \(errnoText())") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .file(path, "cannot read: \(errnoText())")
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
            if bytes.count > maximumFileSize {
                throw .file(path, "larger than \(maximumFileSize) bytes")
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .file(path, "not valid UTF-8")
        }
        return text
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }

    // MARK: - Value syntax

    static func trim(_ s: Substring) -> Substring {
        var s = s
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return s
    }

    static func isDigits(_ s: Substring) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// Seconds from `30s`, `15m`, `24h`, `7d` or a plain number of seconds;
    /// nil if `text` is not a duration, `Int64.max` if it overflows.
    static func parseDuration(_ text: String) -> Int64? {
        var digits = Substring(text)
        var unit: Int64 = 1
        if let last = text.last, !last.isASCII || !last.isNumber {
            switch last {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86400
            default: return nil
            }
            digits = digits.dropLast()
        }
        guard isDigits(digits) else { return nil }
        guard let n = Int64(digits) else { return Int64.max }
        let (product, overflow) = n.multipliedReportingOverflow(by: unit)
        return overflow ? Int64.max : product
    }

    /// The shortest exact spelling: `7d`, `24h`, `15m`, `30s`, `0`.
    static func renderDuration(_ seconds: Int64) -> String {
        if seconds == 0 { return "0" }
        for (unit, suffix) in [(Int64(86400), "d"), (3600, "h"), (60, "m")] where seconds % unit == 0 {
            return "\(seconds / unit)\(suffix)"
        }
        return "\(seconds)s"
    }

    static func parseBoolean(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "yes", "true": return true
        case "no", "false": return false
        default: return nil
        }
    }

    static func renderMode(_ mode: UInt32) -> String {
        let octal = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - octal.count)) + octal
    }

    static func isGroupName(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        guard let first = bytes.first, bytes.count <= 32 else { return false }
        func isAlpha(_ b: UInt8) -> Bool {
            (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z"))
                || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
        }
        guard isAlpha(first) || first == UInt8(ascii: "_") else { return false }
        for (i, b) in bytes.enumerated() {
            let ok =
                isAlpha(b) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_")
                || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
                || (b == UInt8(ascii: "$") && i == bytes.count - 1)
            if !ok { return false }
        }
        return true
    }
}

// MARK: - Key constructors

extension ConfigLoader.Key {
    typealias ValueError = ConfigLoader.ValueError

    static func path(
        _ name: String, _ keyPath: WritableKeyPath<VouchConfig, String>, maximumBytes: Int = 4095
    ) -> Self {
        Self(
            name: name,
            apply: { (config: inout VouchConfig, value: String) throws(ValueError) in
                config[keyPath: keyPath] = try checkedPath(value, maximumBytes: maximumBytes)
            },
            render: { $0[keyPath: keyPath] })
    }

    static func optionalPath(_ name: String, _ keyPath: WritableKeyPath<VouchConfig, String?>) -> Self {
        Self(
            name: name,
            apply: { (config: inout VouchConfig, value: String) throws(ValueError) in
                config[keyPath: keyPath] =
                    value == "none" ? nil : try checkedPath(value, maximumBytes: 4095)
            },
            render: { $0[keyPath: keyPath] ?? "none" })
    }

    private static func checkedPath(_ value: String, maximumBytes: Int) throws(ValueError) -> String {
        guard value.hasPrefix("/") else { throw ValueError("\"\(value)\" is not an absolute path") }
        guard value.utf8.count <= maximumBytes else {
            throw ValueError("\"\(value)\" is longer than \(maximumBytes) bytes")
        }
        guard !value.utf8.contains(0) else { throw ValueError("\"\(value)\" contains a NUL byte") }
        return value
    }

    static func group(_ name: String, _ keyPath: WritableKeyPath<VouchConfig, String?>) -> Self {
        Self(
            name: name,
            apply: { (config: inout VouchConfig, value: String) throws(ValueError) in
                if value == "none" {
                    config[keyPath: keyPath] = nil
                    return
                }
                guard ConfigLoader.isGroupName(value) else {
                    throw ValueError("\"\(value)\" is not a valid group name")
                }
                config[keyPath: keyPath] = value
            },
            render: { $0[keyPath: keyPath] ?? "none" })
    }

    static func mode(_ name: String, _ keyPath: WritableKeyPath<VouchConfig, UInt32>) -> Self {
        Self(
            name: name,
            apply: { (config: inout VouchConfig, value: String) throws(ValueError) in
                guard value.utf8.count <= 5,
                    value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "7") }),
                    let mode = UInt32(value, radix: 8)
                else { throw ValueError("\"\(value)\" is not an octal mode") }
                guard mode <= 0o777 else { throw ValueError("\"\(value)\" is out of range (0000...0777)") }
                config[keyPath: keyPath] = mode
            },
            render: { ConfigLoader.renderMode($0[keyPath: keyPath]) })
    }

    static func integer<T: FixedWidthInteger>(
        _ name: String, _ keyPath: WritableKeyPath<VouchConfig, T>, _ range: ClosedRange<T>
    ) -> Self {
        Self(
            name: name,
            apply: { (config: inout VouchConfig, value: String) throws(ValueError) in
                guard ConfigLoader.isDigits(Substring(value)) else {
                    throw ValueError("\"\(value)\" is not a whole number")
                }
                guard let n = T(value), range.contains(n) else {
                    throw ValueError(
                        "\"\(value)\" is out of range (\(range.lowerBound)...\(range.upperBound))")
                }
                config[keyPath: keyPath] = n
            },
            render: { String($0[keyPath: keyPath]) })
    }

    static func duration(
        _ name: String, _ keyPath: WritableKeyPath<VouchConfig, Int64>, _ range: ClosedRange<Int64>
    ) -> Self {
        Self(
            name: name,
            apply: { (config: inout VouchConfig, value: String) throws(ValueError) in
                guard let seconds = ConfigLoader.parseDuration(value) else {
                    throw ValueError("\"\(value)\" is not a duration (like 30s, 15m, 24h, 7d)")
                }
                guard range.contains(seconds) else {
                    throw ValueError(
                        "\"\(value)\" is out of range (\(ConfigLoader.renderDuration(range.lowerBound))...\(ConfigLoader.renderDuration(range.upperBound)))"
                    )
                }
                config[keyPath: keyPath] = seconds
            },
            render: { ConfigLoader.renderDuration($0[keyPath: keyPath]) })
    }

    static func boolean(_ name: String, _ keyPath: WritableKeyPath<VouchConfig, Bool>) -> Self {
        Self(
            name: name,
            apply: { (config: inout VouchConfig, value: String) throws(ValueError) in
                guard let b = ConfigLoader.parseBoolean(value) else {
                    throw ValueError("\"\(value)\" is not a boolean (yes, no, true, false)")
                }
                config[keyPath: keyPath] = b
            },
            render: { $0[keyPath: keyPath] ? "yes" : "no" })
    }

    static func choice(
        _ name: String, _ keyPath: WritableKeyPath<VouchConfig, String>, _ choices: [String]
    ) -> Self {
        Self(
            name: name,
            apply: { (config: inout VouchConfig, value: String) throws(ValueError) in
                guard choices.contains(value) else {
                    throw ValueError("\"\(value)\" is not one of \(choices.joined(separator: ", "))")
                }
                config[keyPath: keyPath] = value
            },
            render: { $0[keyPath: keyPath] })
    }
}
