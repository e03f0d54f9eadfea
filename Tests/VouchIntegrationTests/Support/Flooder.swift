import Foundation
import VouchProtocol

/// An attacker for the abuse tests: a python3 client, run as another uid
/// (`setpriv`, needs root) or as the tests' own uid, that keeps `connections`
/// connections busy for `seconds`, each sending `frames` pipelined and sending
/// them again once all are answered.  It reports how many answers of each
/// status it got (and how many connections were refused or failed).
struct Flooder {
    var socketPath: String
    var frames: [[UInt8]]
    var connections = 1
    var seconds = 3.0
    /// Run as this uid (and gid); nil: the tests' own uid.
    var uid: UInt32? = AbuseTests.attackerUID

    static let script = """
        import socket, sys, threading, time, json
        path, conns, seconds, hexframes = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
        frames = [bytes.fromhex(h) for h in hexframes.split(",")]
        batch = b"".join(frames)
        stop = time.time() + seconds
        counts = {}
        lock = threading.Lock()
        def count(key, n=1):
            with lock: counts[key] = counts.get(key, 0) + n
        def run():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
            except OSError:
                count("connect_failed"); return
            s.settimeout(max(1.0, seconds + 30))
            buf = b""
            outstanding = 0
            rounds = 0
            try:
                while True:
                    if outstanding == 0:
                        if rounds > 0 and time.time() >= stop: return
                        try:
                            s.sendall(batch)
                        except OSError:
                            pass  # a refused connection is closed at once; its answer is still there to read
                        outstanding = len(frames); rounds += 1
                    data = s.recv(65536)
                    if not data:
                        count("closed"); return
                    buf += data
                    while len(buf) >= 4:
                        n = int.from_bytes(buf[:4], "big")
                        if len(buf) < 4 + n: break
                        p = buf[4:4 + n]; buf = buf[4 + n:]
                        rid = int.from_bytes(p[2:6], "big")
                        count(str(int.from_bytes(p[6:8], "big")))
                        if rid == 0:
                            count("refused"); return
                        outstanding -= 1
            except OSError:
                count("closed")
            finally:
                s.close()
        threads = [threading.Thread(target=run) for _ in range(conns)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(json.dumps(counts))
        """

    /// Starts the flood; `wait` gives its counts.
    func start() throws -> Running {
        let p = Subprocess()
        let hex = frames.map { $0.map { String(format: "%02x", $0) }.joined() }.joined(separator: ",")
        let python = ["/usr/bin/python3", "-c", Self.script, socketPath, "\(connections)", "\(seconds)", hex]
        if let uid {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            p.arguments = ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups"] + python
        } else {
            p.executableURL = URL(fileURLWithPath: python[0])
            p.arguments = Array(python.dropFirst())
        }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.standardError
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return Running(process: p, output: out)
    }

    final class Running {
        let process: Subprocess
        let output: Pipe
        init(process: Subprocess, output: Pipe) {
            self.process = process
            self.output = output
        }

        /// Answers by status (`Status` raw value as text), plus "refused",
        /// "closed" and "connect_failed".
        func wait() throws -> [String: Int] {
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard let counts = try JSONSerialization.jsonObject(with: data) as? [String: Int] else {
                throw TestError("flooder printed \(String(decoding: data, as: UTF8.self))")
            }
            return counts
        }
    }
}

extension [String: Int] {
    func count(_ status: Status) -> Int { self["\(status.rawValue)"] ?? 0 }
}

/// A request frame.
func frame(_ id: UInt32, _ request: Request) -> [UInt8] {
    RequestMessage(id: id, request: request).encodeFrame()
}

/// A login request from a PAM service and remote host.
func pamLogin(_ username: String, _ password: String, service: String = "sshd", rhost: String) -> Request {
    .login(
        username: username, password: .text(password), wantToken: false,
        context: LoginContext(service: service, remoteHost: rhost, tty: "ssh"))
}

/// Latency figures of a victim's requests, for the test's output (never asserted).
struct Latencies {
    var millis: [Double] = []
    mutating func add(_ d: Duration) {
        millis.append(Double(d.components.attoseconds) / 1e15 + Double(d.components.seconds) * 1000)
    }
    func percentile(_ p: Double) -> Double {
        guard !millis.isEmpty else { return .nan }
        let sorted = millis.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
    }
    var summary: String {
        String(
            format: "n=%d p50=%.1f ms p99=%.1f ms max=%.1f ms", millis.count, percentile(0.5), percentile(0.99),
            millis.max() ?? .nan)
    }
}
