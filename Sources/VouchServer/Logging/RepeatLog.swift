import Logging
import VouchCore

/// Log lines that a flood would repeat (rate limited, busy, refused,
/// dropped): the first of a kind from a source is logged at once, the rest
/// are counted and `flush` (every `interval`) logs one line per kind and
/// source with the count, so a peer sending thousands a second costs the
/// journal a line per interval instead of thousands.
public final class RepeatLog: Sendable {
    struct Key: Hashable {
        var event: String
        var source: String
    }

    struct Entry {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
        var repeats: Int
    }

    /// Sources tracked per interval at most; more are counted together as "others".
    static let maxKeys = 1024
    public static let interval = Duration.seconds(10)

    private let entries = Locked<[Key: Entry]>([:])
    let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    /// Logs `message` unless the same `event` from `source` was logged within
    /// the current interval, in which case it is counted for `flush`.
    func note(
        _ level: Logger.Level, _ message: String, event: String, source: String, metadata: Logger.Metadata = [:]
    ) {
        let first = entries.withLock { entries -> Bool in
            var key = Key(event: event, source: source)
            if entries[key] == nil, entries.count >= Self.maxKeys { key.source = "others" }
            if entries[key] != nil {
                entries[key]!.repeats += 1
                return false
            }
            guard key.source == source else {
                // The first line diverted to "others" is counted there (logged at the
                // flush), without the metadata of the source that happened to come first.
                entries[key] = Entry(level: level, message: message, metadata: [:], repeats: 1)
                return false
            }
            entries[key] = Entry(level: level, message: message, metadata: metadata, repeats: 0)
            return true
        }
        guard first else { return }
        var metadata = metadata
        metadata["event"] = "\(event)"
        metadata["source"] = "\(source)"
        logger.log(level: level, "\(message)", metadata: metadata)
    }

    /// One line per kind and source that repeated since the last flush, with
    /// the count; kinds that did not repeat are forgotten (their next line is
    /// logged at once).
    public func flush() {
        let repeated = entries.withLock { entries -> [(Key, Entry)] in
            let out = entries.filter { $0.value.repeats > 0 }.map { ($0.key, $0.value) }
            entries = entries.filter { $0.value.repeats > 0 }.mapValues { entry in
                var e = entry
                e.repeats = 0
                return e
            }
            return out
        }
        for (key, entry) in repeated {
            var metadata = entry.metadata
            metadata["event"] = "\(key.event)"
            metadata["source"] = "\(key.source)"
            metadata["repeats"] = "\(entry.repeats)"
            logger.log(
                level: entry.level,
                "\(entry.message) (\(entry.repeats) more in the last \(Self.interval.components.seconds)s)",
                metadata: metadata)
        }
    }
}
