import CSystemd
import Glibc
import Logging

/// Logs structured records to the systemd journal with `sd_journal_sendv(3)`:
/// `MESSAGE`, `PRIORITY` (syslog level), `SYSLOG_IDENTIFIER`, `CODE_FILE`,
/// `CODE_LINE`, `CODE_FUNC`, and each metadata key uppercased and prefixed
/// `VOUCH_` (`peer_uid` → `VOUCH_PEER_UID`), so that
/// `journalctl VOUCH_EVENT=login_failed` works.  A record the journal
/// refuses is written to stderr instead.
public struct JournalLogHandler: LogHandler {
    public let label: String
    public let identifier: String
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let levelControl: LogLevelControl
    private var ownLevel: Logger.Level?

    public init(
        label: String, levelControl: LogLevelControl = LoggingSetup.levelControl, identifier: String = "vouchd",
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.label = label
        self.levelControl = levelControl
        self.identifier = identifier
        self.metadataProvider = metadataProvider
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
        let fields = Self.fields(
            level: event.level, message: event.message.description, metadata: all, identifier: identifier,
            file: event.file, function: event.function, line: event.line)
        if Self.send(fields) < 0 {
            let line = StderrLogHandler.line(level: event.level, message: event.message.description, metadata: all)
            writeAll(2, Array((line + "\n").utf8))
        }
    }

    /// The `NAME=value` fields of one record, in the order sent.
    public static func fields(
        level: Logger.Level, message: String, metadata: Logger.Metadata, identifier: String = "vouchd",
        file: String, function: String, line: UInt
    ) -> [String] {
        var fields = [
            "MESSAGE=\(message)",
            "PRIORITY=\(LoggingSetup.syslogPriority(level))",
            "SYSLOG_IDENTIFIER=\(identifier)",
            "CODE_FILE=\(file)",
            "CODE_LINE=\(line)",
            "CODE_FUNC=\(function)",
        ]
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            fields.append("\(fieldName(forMetadataKey: key))=\(LoggingSetup.text(of: value))")
        }
        return fields
    }

    /// `VOUCH_` and the key uppercased, with characters a journal field
    /// name cannot hold (anything but A-Z, 0-9, _) replaced by `_`,
    /// cut to the journal's 64-character limit.
    public static func fieldName(forMetadataKey key: String) -> String {
        var name = "VOUCH_"
        for byte in key.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"): name.append(Character(Unicode.Scalar(byte - 32)))
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
                name.append(Character(Unicode.Scalar(byte)))
            default: name.append("_")
            }
        }
        return String(name.prefix(64))
    }

    /// Sends fields with `sd_journal_sendv`; returns its result (negative errno on failure).
    static func send(_ fields: [String]) -> Int32 {
        var buffer: [UInt8] = []
        var ranges: [Range<Int>] = []
        for field in fields {
            let start = buffer.count
            buffer.append(contentsOf: field.utf8)
            ranges.append(start..<buffer.count)
        }
        return buffer.withUnsafeMutableBytes { raw in
            var iovecs = ranges.map { range in
                iovec(iov_base: raw.baseAddress.map { $0 + range.lowerBound }, iov_len: range.count)
            }
            return sd_journal_sendv(&iovecs, Int32(iovecs.count))
        }
    }
}
