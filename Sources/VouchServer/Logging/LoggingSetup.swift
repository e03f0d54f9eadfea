import Glibc
import Logging
import Synchronization

/// A log level shared by every handler `LoggingSetup` makes, so that a
/// reload (SIGHUP) can change it for loggers that already exist.
public final class LogLevelControl: Sendable {
    private let raw: Atomic<UInt8>

    public init(_ level: Logger.Level) {
        raw = Atomic(Self.index(of: level))
    }

    /// The current level; reading and setting it are atomic.
    public var level: Logger.Level {
        get { Logger.Level.allCases[Int(raw.load(ordering: .relaxed))] }
        set { raw.store(Self.index(of: newValue), ordering: .relaxed) }
    }

    private static func index(of level: Logger.Level) -> UInt8 {
        UInt8(Logger.Level.allCases.firstIndex(of: level)!)
    }
}

/// Chooses and installs vouchd's log handler.
public enum LoggingSetup {
    /// Where records go.
    public enum Destination: Sendable, Hashable {
        /// The journal when stderr is connected to it, or when stderr is
        /// not a terminal and journald's socket exists; stderr otherwise.
        case automatic
        /// Structured records through `sd_journal_sendv(3)`.
        case journal
        /// One line per record on stderr, `<N>` priority prefixed.
        case stderr
    }

    /// The level every handler made by `bootstrap` reads.
    public static let levelControl = LogLevelControl(.info)

    /// The current level of every logger (unless a logger's own `logLevel`
    /// was set).  Setting it takes effect at once, e.g. on SIGHUP.
    public static var level: Logger.Level {
        get { levelControl.level }
        set { levelControl.level = newValue }
    }

    /// Installs the handler; call once, first thing in `main`.
    /// Returns the destination chosen.
    @discardableResult
    public static func bootstrap(
        level: Logger.Level, destination: Destination = .automatic, identifier: String = "vouchd"
    ) -> Destination {
        levelControl.level = level
        let chosen = destination == .automatic ? automaticDestination() : destination
        let control = levelControl
        switch chosen {
        case .journal:
            LoggingSystem.bootstrap { label in
                JournalLogHandler(
                    label: label, levelControl: control, identifier: identifier)
            }
        case .stderr, .automatic:
            LoggingSystem.bootstrap { label in
                StderrLogHandler(label: label, levelControl: control)
            }
        }
        return chosen
    }

    /// `.journal` when stderr is the journal stream (`JOURNAL_STREAM`
    /// matches stderr's device and inode), or when stderr is not a terminal
    /// and `/run/systemd/journal/socket` exists; `.stderr` otherwise.
    /// (`sd_journal_sendv` reports success even with no journald, so the
    /// socket is checked.)
    public static func automaticDestination() -> Destination {
        if stderrIsJournalStream() { return .journal }
        if isatty(2) == 0, access("/run/systemd/journal/socket", F_OK) == 0 { return .journal }
        return .stderr
    }

    /// Whether `JOURNAL_STREAM` (`device:inode`) names stderr (systemd.exec(5)).
    public static func stderrIsJournalStream() -> Bool {
        guard let value = getenv("JOURNAL_STREAM") else { return false }
        let parts = String(cString: value).split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else {
            return false
        }
        var st = stat()
        guard fstat(2, &st) == 0 else { return false }
        return UInt64(st.st_dev) == device && UInt64(st.st_ino) == inode
    }

    /// The syslog priority of a level (sd-daemon(3), syslog(3)):
    /// trace and debug 7, info 6, notice 5, warning 4, error 3, critical 2.
    public static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    /// Text of a metadata value: strings as they are, lists as `[a, b]`,
    /// dictionaries as `[k: v]` with sorted keys.
    public static func text(of value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let s): return s
        case .stringConvertible(let c): return c.description
        case .array(let values): return "[" + values.map { text(of: $0) }.joined(separator: ", ") + "]"
        case .dictionary(let dict):
            return "["
                + dict.sorted { $0.key < $1.key }.map { "\($0.key): \(text(of: $0.value))" }
                .joined(separator: ", ") + "]"
        }
    }

    /// The handler's metadata, then the provider's, then the record's:
    /// later ones win.  An error attached to the event becomes `error`
    /// unless the metadata already has that key.
    static func merged(
        handler: Logger.Metadata, provider: Logger.MetadataProvider?, event: Logger.Metadata?, error: (any Error)?
    ) -> Logger.Metadata {
        var all = handler
        if let provider { all.merge(provider.get()) { _, new in new } }
        if let event { all.merge(event) { _, new in new } }
        if let error, all["error"] == nil { all["error"] = .string(String(describing: error)) }
        return all
    }
}

/// Writes all of `bytes` to `fd` in as few write(2) calls as it takes.
func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += n
        }
    }
}
