import Glibc
import Logging

/// Logs one line per record on stderr: `<N>message key=value ...`, where
/// `<N>` is the syslog priority (the sd-daemon(3) prefix journald and
/// systemd understand).  Metadata keys are sorted; values with spaces,
/// quotes or `=` are quoted, and newlines are escaped so a record stays on
/// one line.
public struct StderrLogHandler: LogHandler {
    public let label: String
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let levelControl: LogLevelControl
    private var ownLevel: Logger.Level?
    private let fd: Int32

    /// - Parameters:
    ///   - levelControl: the shared level read for every record, unless
    ///     this handler's `logLevel` is set.
    ///   - fd: where lines go (stderr by default).
    public init(
        label: String, levelControl: LogLevelControl = LoggingSetup.levelControl,
        metadataProvider: Logger.MetadataProvider? = nil, fd: Int32 = 2
    ) {
        self.label = label
        self.levelControl = levelControl
        self.metadataProvider = metadataProvider
        self.fd = fd
    }

    /// The shared level, or this handler's own once set.
    public var logLevel: Logger.Level {
        get { ownLevel ?? levelControl.level }
        set { ownLevel = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let all = LoggingSetup.merged(
            handler: metadata, provider: metadataProvider, event: event.metadata, error: event.error)
        let line = Self.line(level: event.level, message: event.message.description, metadata: all)
        writeAll(fd, Array((line + "\n").utf8))
    }

    /// The line for a record, without the newline.
    public static func line(level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        var out = "<\(LoggingSetup.syslogPriority(level))>" + escaped(message)
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            out += " " + escaped(key) + "=" + quoted(LoggingSetup.text(of: value))
        }
        return out
    }

    /// `text` with backslashes, control characters and (with `quotes`)
    /// double quotes escaped.
    static func escaped(_ text: String, quotes: Bool = false) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"" where quotes: out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// A value as is when it is a plain word, else in double quotes.
    static func quoted(_ value: String) -> String {
        let plain = !value.isEmpty && !value.unicodeScalars.contains { $0 == " " || $0 == "\"" || $0 == "=" }
        if plain { return escaped(value) }
        return "\"" + escaped(value, quotes: true) + "\""
    }
}
