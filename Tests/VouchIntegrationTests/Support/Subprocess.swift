import CVouchSys
import Foundation

/// A child process for the tests, spawned with posix_spawn and reaped with
/// waitpid.  Unlike Foundation's `Process`, the child inherits no file
/// descriptor but 0, 1 and 2 (a long-lived vouchd started by one test must
/// not hold open the output pipe of another test's vouchctl), and waiting
/// never depends on a SIGCHLD handler.  The API mirrors the parts of
/// `Process` the tests use.
final class Subprocess: @unchecked Sendable {
    var executableURL: URL?
    var arguments: [String] = []
    var environment: [String: String]?
    /// A `FileHandle` or a `Pipe` (the child reads its read end); nil: /dev/null.
    var standardInput: Any?
    /// A `FileHandle` or a `Pipe` (the child writes its write end); nil: /dev/null.
    var standardOutput: Any?
    var standardError: Any?

    private(set) var processIdentifier: Int32 = 0
    private let lock = NSLock()
    private var rawStatus: Int32?

    func run() throws {
        guard let path = executableURL?.path else { throw TestError("no executable") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var parentCloses: [FileHandle] = []
        func wire(_ value: Any?, _ target: Int32, childReads: Bool) {
            switch value {
            case let handle as FileHandle:
                posix_spawn_file_actions_adddup2(&actions, handle.fileDescriptor, target)
            case let pipe as Pipe:
                let end = childReads ? pipe.fileHandleForReading : pipe.fileHandleForWriting
                posix_spawn_file_actions_adddup2(&actions, end.fileDescriptor, target)
                parentCloses.append(end)
            default:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", childReads ? O_RDONLY : O_WRONLY, 0)
            }
        }
        wire(standardInput, 0, childReads: true)
        wire(standardOutput, 1, childReads: false)
        wire(standardError, 2, childReads: false)
        cvouch_spawn_closefrom(&actions, 3)

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in env { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, nil, argv, env)
        guard rc == 0 else { throw TestError("cannot start \(path): \(String(cString: strerror(rc)))") }
        processIdentifier = pid
        // The parent keeps only its own ends of the pipes.
        for handle in parentCloses { try? handle.close() }
    }

    /// Reaps the child if it has exited; never blocks.
    private func poll() {
        lock.lock()
        defer { lock.unlock() }
        guard rawStatus == nil, processIdentifier > 0 else { return }
        var status: Int32 = 0
        let r = waitpid(processIdentifier, &status, WNOHANG)
        if r == processIdentifier { rawStatus = status } else if r < 0 { rawStatus = 0 }
    }

    var isRunning: Bool {
        poll()
        return lock.withLock { processIdentifier > 0 && rawStatus == nil }
    }

    func waitUntilExit() {
        while isRunning { usleep(1000) }
    }

    /// The exit status, or 128 + the signal that killed it.
    var terminationStatus: Int32 {
        let status = lock.withLock { rawStatus ?? 0 }
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }

    func terminate() {
        if isRunning { kill(processIdentifier, SIGTERM) }
    }
}
