import Glibc
import Logging
import Testing

@testable import VouchServer

@Suite struct LogHandlerTests {
    @Test func syslogPriorities() {
        let expected: [(Logger.Level, Int)] = [
            (.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
        ]
        for (level, priority) in expected {
            #expect(LoggingSetup.syslogPriority(level) == priority)
        }
    }

    @Test func stderrLineFormat() {
        #expect(StderrLogHandler.line(level: .info, message: "vouchd started", metadata: [:]) == "<6>vouchd started")
        let line = StderrLogHandler.line(
            level: .warning, message: "login failed",
            metadata: ["user": "alice", "peer_uid": "1000", "event": "login_failed"])
        #expect(line == "<4>login failed event=login_failed peer_uid=1000 user=alice")
    }

    @Test func stderrLineQuotesAndEscapes() {
        let line = StderrLogHandler.line(
            level: .error, message: "two\nlines",
            metadata: [
                "reason": "bad \"thing\"", "path": "/a b", "empty": "", "eq": "a=b", "list": ["x", "y"],
                "nl": "a\nb",
            ])
        #expect(
            line
                == #"<3>two\nlines empty="" eq="a=b" list="[x, y]" nl=a\nb path="/a b" reason="bad \"thing\"""#)
        #expect(!line.contains("\n"))
    }

    /// Reads what a handler writes to a pipe.
    private func captured(_ body: (Int32) -> Void) -> String {
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        body(fds[1])
        close(fds[1])
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fds[0], &buffer, buffer.count)
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        close(fds[0])
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func stderrHandlerWritesOneLinePerRecordAndFollowsSharedLevel() {
        let control = LogLevelControl(.info)
        let output = captured { fd in
            var logger = Logger(label: "test") { label in
                StderrLogHandler(label: label, levelControl: control, fd: fd)
            }
            logger[metadataKey: "conn"] = "7"
            logger.debug("hidden")
            logger.info("shown", metadata: ["user": "bob"])
            control.level = .debug  // as a SIGHUP reload would
            logger.debug("now shown", metadata: ["conn": "8"])
            control.level = .error
            logger.warning("hidden again")
        }
        #expect(output == "<6>shown conn=7 user=bob\n<7>now shown conn=8\n")
    }

    @Test func ownLevelOverridesSharedLevel() {
        let control = LogLevelControl(.info)
        var handler = StderrLogHandler(label: "x", levelControl: control)
        #expect(handler.logLevel == .info)
        control.level = .trace
        #expect(handler.logLevel == .trace)
        handler.logLevel = .critical
        control.level = .debug
        #expect(handler.logLevel == .critical)
    }

    @Test func levelControlHoldsEveryLevel() {
        let control = LogLevelControl(.info)
        for level in Logger.Level.allCases {
            control.level = level
            #expect(control.level == level)
        }
    }

    @Test func journalFields() {
        let fields = JournalLogHandler.fields(
            level: .notice, message: "user created",
            metadata: ["event": "user_created", "user": "alice", "peer_uid": .stringConvertible(0), "peer-pid": "42"],
            file: "VouchServer/Handler.swift", function: "create()", line: 12)
        #expect(
            fields == [
                "MESSAGE=user created",
                "PRIORITY=5",
                "SYSLOG_IDENTIFIER=vouchd",
                "CODE_FILE=VouchServer/Handler.swift",
                "CODE_LINE=12",
                "CODE_FUNC=create()",
                "VOUCH_EVENT=user_created",
                "VOUCH_PEER_PID=42",
                "VOUCH_PEER_UID=0",
                "VOUCH_USER=alice",
            ])
    }

    @Test func journalFieldNames() {
        #expect(JournalLogHandler.fieldName(forMetadataKey: "event") == "VOUCH_EVENT")
        #expect(JournalLogHandler.fieldName(forMetadataKey: "peer_uid") == "VOUCH_PEER_UID")
        #expect(JournalLogHandler.fieldName(forMetadataKey: "Peer.Pid") == "VOUCH_PEER_PID")
        #expect(JournalLogHandler.fieldName(forMetadataKey: "é") == "VOUCH___")
        #expect(JournalLogHandler.fieldName(forMetadataKey: String(repeating: "k", count: 100)).count == 64)
    }

    @Test func journalFieldsKeepMultilineMessages() {
        let fields = JournalLogHandler.fields(
            level: .error, message: "a\nb", metadata: ["sql": "x\ny"], identifier: "vouchd-test", file: "f",
            function: "g", line: 1)
        #expect(fields.first == "MESSAGE=a\nb")
        #expect(fields.contains("SYSLOG_IDENTIFIER=vouchd-test"))
        #expect(fields.last == "VOUCH_SQL=x\ny")
    }

    @Test func mergedMetadataPrecedence() {
        struct Oops: Error, CustomStringConvertible { var description: String { "oops" } }
        let merged = LoggingSetup.merged(
            handler: ["a": "handler", "b": "handler"], provider: nil, event: ["b": "event"], error: Oops())
        #expect(merged == ["a": "handler", "b": "event", "error": "oops"])
    }
}
