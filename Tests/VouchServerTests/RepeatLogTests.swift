import Glibc
import Logging
import Testing

@testable import VouchServer

@Suite struct RepeatLogTests {
    @Test func aFloodIsOneLineThenOneCountPerInterval() {
        let control = LogLevelControl(.info)
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        let logger = Logger(label: "test") { label in
            StderrLogHandler(label: label, levelControl: control, fd: fds[1])
        }
        let repeats = RepeatLog(logger: logger)
        for _ in 0..<5000 { repeats.note(.notice, "rate limited", event: "rate_limited", source: "uid 1000") }
        repeats.note(.notice, "rate limited", event: "rate_limited", source: "uid 1001")
        repeats.flush()
        repeats.flush()  // nothing repeated since: no line, and the kind is forgotten
        // After a quiet interval: logged at once, and the next one counted.
        repeats.note(.notice, "rate limited", event: "rate_limited", source: "uid 1000")
        repeats.note(.notice, "rate limited", event: "rate_limited", source: "uid 1000")
        repeats.flush()
        close(fds[1])
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while case let n = read(fds[0], &buffer, buffer.count), n > 0 { bytes += buffer[0..<n] }
        close(fds[0])
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 5, "\(lines)")
        #expect(lines[0].contains("rate limited") && lines[0].contains("uid 1000"))
        #expect(lines[1].contains("uid 1001"))
        #expect(lines[2].contains("(4999 more in the last 10s)") && lines[2].contains("repeats=4999"))
        #expect(!lines[3].contains("more in the last"))
        #expect(lines[4].contains("(1 more in the last 10s)"))
    }

    /// Past `maxKeys` sources in an interval, the rest are counted as
    /// "others": the first of them too (it used to vanish), and without
    /// another source's metadata.
    @Test func sourcesPastTheTableAreCountedAsOthers() {
        let control = LogLevelControl(.info)
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        let logger = Logger(label: "test") { label in
            StderrLogHandler(label: label, levelControl: control, fd: fds[1])
        }
        let repeats = RepeatLog(logger: logger)
        for uid in 0..<RepeatLog.maxKeys { repeats.note(.notice, "refused", event: "limit", source: "uid \(uid)") }
        repeats.note(.notice, "refused", event: "limit", source: "uid 99999", metadata: ["peer_uid": "99999"])
        repeats.flush()
        close(fds[1])
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while case let n = read(fds[0], &buffer, buffer.count), n > 0 { bytes += buffer[0..<n] }
        close(fds[0])
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == RepeatLog.maxKeys + 1, "\(lines.count) lines")
        let others = lines.last.map(String.init) ?? ""
        #expect(others.contains("source=others") && others.contains("(1 more in the last 10s)"), "\(others)")
        #expect(!others.contains("99999"), "\(others)")
    }
}
