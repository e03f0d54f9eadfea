import CVouchSys
import Glibc
import Logging

/// Runs the executables in `hooks_dir/<event>/` for an event: each gets the
/// event as JSON on standard input (tokens only there), a minimal
/// environment, no arguments, and a timeout after which it is killed.  Exit
/// status and standard error are logged, with any token redacted before the
/// text is cut to `maxStderrBytes` (see `StderrRedactor`).
public struct HookRunner: Sendable {
    public let directory: String?
    public let timeoutMillis: Int64
    let logger: Logger

    /// The most of a hook's standard error that is kept (after redaction).
    static let maxStderrBytes = 8192

    public init(directory: String?, timeoutMillis: Int64, logger: Logger) {
        self.directory = directory
        self.timeoutMillis = timeoutMillis
        self.logger = logger
    }

    /// The outcome of one hook.
    public struct Outcome: Sendable {
        public var path: String
        /// Exit status, or nil when it was killed (timeout) or could not start.
        public var exitStatus: Int32?
        public var timedOut: Bool
        public var stderr: String
        public var succeeded: Bool { exitStatus == 0 }
    }

    /// The executables for `event`, sorted by name.
    public func hooks(for event: String) -> [String] {
        guard let directory else { return [] }
        let dir = directory + "/" + event
        guard let handle = opendir(dir) else { return [] }
        defer { closedir(handle) }
        var paths: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard !name.hasPrefix("."), !name.hasSuffix("~") else { continue }
            let path = dir + "/" + name
            var st = stat()
            guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG, access(path, X_OK) == 0 else { continue }
            paths.append(path)
        }
        return paths.sorted()
    }

    /// Runs every hook for `event` in turn (blocking), and returns their outcomes.
    public func run(event: String, json: String, redact secrets: [String] = []) -> [Outcome] {
        hooks(for: event).map { path in
            let outcome = runOne(path: path, event: event, input: Array(json.utf8), redact: secrets)
            var metadata: Logger.Metadata = ["event": "hook", "hook": "\(path)", "hook_event": "\(event)"]
            if let status = outcome.exitStatus { metadata["exit_status"] = "\(status)" }
            if outcome.timedOut { metadata["timed_out"] = "true" }
            if !outcome.stderr.isEmpty { metadata["stderr"] = "\(outcome.stderr)" }
            if outcome.succeeded {
                logger.info("hook finished", metadata: metadata)
            } else {
                logger.warning("hook failed", metadata: metadata)
            }
            return outcome
        }
    }

    func runOne(path: String, event: String, input: [UInt8], redact secrets: [String]) -> Outcome {
        var stdinPipe: [Int32] = [-1, -1]
        var stderrPipe: [Int32] = [-1, -1]
        guard cvouch_pipe_cloexec(&stdinPipe) == 0 else { return failure(path, "cannot create a pipe") }
        guard cvouch_pipe_cloexec(&stderrPipe) == 0 else {
            close(stdinPipe[0])
            close(stdinPipe[1])
            return failure(path, "cannot create a pipe")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
        // The hook inherits nothing else of the daemon's (database, sockets).
        cvouch_spawn_closefrom(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A new process group, so a timeout kills the hook's children too.
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)

        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), nil]
        let env: [UnsafeMutablePointer<CChar>?] = [
            strdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), strdup("LANG=C.UTF-8"),
            strdup("VOUCH_EVENT=\(event)"), nil,
        ]
        defer {
            for p in argv { free(p) }
            for p in env { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, env)
        close(stdinPipe[0])
        close(stderrPipe[1])
        guard rc == 0 else {
            close(stdinPipe[1])
            close(stderrPipe[0])
            return failure(path, "cannot start: \(String(cString: strerror(rc)))")
        }
        // The event is small (well under a pipe buffer); a hook that does not read it just gets EPIPE.
        var offset = 0
        while offset < input.count {
            let n = input[offset...].withUnsafeBytes { write(stdinPipe[1], $0.baseAddress, $0.count) }
            if n <= 0 { break }
            offset += n
        }
        close(stdinPipe[1])

        let deadline = monotonicMillis() + timeoutMillis
        let redactor = StderrRedactor(secrets: secrets, limit: Self.maxStderrBytes)
        var errBytes: [UInt8] = []
        var errTotal = 0
        var timedOut = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        var open = true
        while open {
            let remaining = deadline - monotonicMillis()
            if remaining <= 0 {
                timedOut = true
                break
            }
            var pfd = pollfd(fd: stderrPipe[0], events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(min(remaining, 1000)))
            if ready < 0 && errno != EINTR { break }
            if ready > 0 {
                let n = read(stderrPipe[0], &buffer, buffer.count)
                if n <= 0 {
                    open = false
                } else {
                    if errBytes.count < redactor.rawLimit {
                        errBytes += buffer[0..<min(n, redactor.rawLimit - errBytes.count)]
                    }
                    errTotal += n
                }
            }
        }
        close(stderrPipe[0])
        var status: Int32 = 0
        if timedOut {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        } else {
            // stderr closed: wait for the exit, still bounded by the deadline.
            while waitpid(pid, &status, WNOHANG) == 0 {
                if monotonicMillis() >= deadline {
                    timedOut = true
                    kill(-pid, SIGKILL)
                    kill(pid, SIGKILL)
                    waitpid(pid, &status, 0)
                    break
                }
                usleep(2000)
            }
        }
        let redacted = redactor.redact(errBytes, complete: errTotal == errBytes.count)
        let text = String(decoding: redacted, as: UTF8.self).trimmingSuffixWhitespace()
        let exited = !timedOut && (status & 0x7f) == 0
        return Outcome(path: path, exitStatus: exited ? (status >> 8) & 0xff : nil, timedOut: timedOut, stderr: text)
    }

    private func failure(_ path: String, _ message: String) -> Outcome {
        Outcome(path: path, exitStatus: nil, timedOut: false, stderr: message)
    }
}

func monotonicMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

extension String {
    func trimmingSuffixWhitespace() -> String {
        var s = Substring(self)
        while let last = s.last, last.isWhitespace { s.removeLast() }
        return String(s)
    }

    /// The first line.
    var firstLine: String { String(split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: true).first ?? "") }
}
