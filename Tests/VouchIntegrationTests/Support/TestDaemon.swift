import Foundation
import VouchClient
import VouchProtocol
import VouchSecrets

/// Where the package's built products are.
enum Products {
    static let directory: String = {
        let argv0 = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = argv0.deletingLastPathComponent()
        // swift test runs .build/<triple>/debug/vouchPackageTests.xctest
        if !FileManager.default.fileExists(atPath: dir.appendingPathComponent("vouchd").path) {
            dir = URL(fileURLWithPath: packageRoot + "/.build/debug")
        }
        return dir.path
    }()
    static var vouchd: String { directory + "/vouchd" }
    static var vouchctl: String { directory + "/vouchctl" }

    static let packageRoot: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(4)  // Tests/VouchIntegrationTests/Support/TestDaemon.swift
        return parts.joined(separator: "/")
    }()
}

/// The output of a finished process.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

private let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

/// Runs a program to completion, feeding `stdin`.  A program still running
/// after `timeout` seconds is killed (SIGKILL), so a hung child fails the
/// test instead of hanging it.
func runProcess(
    _ path: String, _ args: [String], stdin: String? = nil, environment: [String: String]? = nil,
    timeout: Double = 120
)
    throws -> ProcessResult
{
    let p = Subprocess()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    if let environment { p.environment = environment }
    let out = Pipe()
    let err = Pipe()
    let input = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = input
    try p.run()
    let pid = p.processIdentifier
    let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
    defer { watchdog.cancel() }
    // A child that exits without reading its input must not kill the tests with SIGPIPE.
    _ = ignoreSIGPIPE
    if let stdin { try? input.fileHandleForWriting.write(contentsOf: Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    // Read both pipes to the end before waiting, so a chatty child never blocks.
    let group = DispatchGroup()
    nonisolated(unsafe) var outData = Data()
    nonisolated(unsafe) var errData = Data()
    group.enter()
    DispatchQueue.global().async {
        outData = out.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    errData = err.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    p.waitUntilExit()
    return ProcessResult(
        status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self))
}

/// A real vouchd on a temporary socket and database, for one test.
final class TestDaemon: @unchecked Sendable {
    let directory: String
    let socketPath: String
    let databasePath: String
    let configPath: String
    let logPath: String
    private(set) var process: Subprocess?
    /// The arguments of the last `start`, reused by `restart`.
    private var startArguments: [String]?

    /// `config` lines are appended to a test configuration whose argon2 cost
    /// is cheap (tests that measure hashing pass their own cost).
    init(config extra: [String] = [], start: Bool = true) async throws {
        let template = NSTemporaryDirectory() + "vouch-test-XXXXXX"
        var buffer = Array(template.utf8CString)
        guard mkdtemp(&buffer) != nil else { throw TestError("mkdtemp failed") }
        directory = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        chmod(directory, 0o755)  // so a test running as another uid can reach the socket
        socketPath = directory + "/vouchd.sock"
        databasePath = directory + "/vouch.db"
        configPath = directory + "/vouchd.conf"
        logPath = directory + "/vouchd.log"
        try writeConfig(extra)
        if start { try await self.start() }
    }

    func writeConfig(_ extra: [String]) throws {
        var lines = [
            "socket_path = \(socketPath)",
            "socket_mode = 0666",
            "socket_group = none",
            "admin_group = none",
            "database_path = \(databasePath)",
            "hooks_dir = none",
            "log_level = debug",
            // Cheap hashing unless a test asks for the real cost.
            "argon2_memory_kib = 1024",
            "argon2_iterations = 1",
            "argon2_parallelism = 1",
        ]
        // A key given by the test replaces the default line.
        func key(_ line: String) -> Substring { line.split(separator: "=").first.map { $0.trimmingPrefix(" ") } ?? "" }
        let overridden = Set(extra.map { key($0).trimmingCharacters(in: .whitespaces) })
        lines.removeAll { overridden.contains(key($0).trimmingCharacters(in: .whitespaces)) }
        lines += extra
        try (lines.joined(separator: "\n") + "\n").write(toFile: configPath, atomically: true, encoding: .utf8)
        chmod(configPath, 0o644)
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
    }

    /// Starts vouchd and waits until it answers a ping.
    func start(arguments: [String]? = nil, environment: [String: String]? = nil) async throws {
        let p = Subprocess()
        p.executableURL = URL(fileURLWithPath: Products.vouchd)
        p.arguments = arguments ?? ["--config", configPath, "--log-to", "stderr"]
        startArguments = arguments
        if let environment { p.environment = environment }
        // A restart appends: the log covers every run (the password scans rely on it).
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        p.standardError = log
        p.standardOutput = log
        p.standardInput = FileHandle.nullDevice
        try p.run()
        process = p
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if !p.isRunning { throw TestError("vouchd exited with \(p.terminationStatus): \(logText())") }
            if let client = try? await VouchClient.connect(socketPath: socketPath, timeout: .seconds(2)) {
                defer { Task { await client.close() } }
                if (try? await client.ping()) != nil { return }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestError("vouchd did not answer within 20 s: \(logText())")
    }

    /// SIGTERM and wait: a graceful stop.
    func stop() {
        guard let p = process, p.isRunning else { return }
        p.terminate()
        p.waitUntilExit()
    }

    /// SIGKILL and wait: a crash.
    func kill9() {
        guard let p = process, p.isRunning else { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    func restart() async throws {
        stop()
        try await start(arguments: startArguments)
    }

    func client(timeout: Duration = .seconds(30)) async throws -> VouchClient {
        try await VouchClient.connect(socketPath: socketPath, timeout: timeout)
    }

    /// Runs vouchctl against this daemon; `asUID` runs it as another user (needs root).
    func vouchctl(_ args: [String], stdin: String? = nil, asUID: UInt32? = nil) throws -> ProcessResult {
        let full = ["--socket", socketPath] + args
        if let uid = asUID {
            return try runProcess(
                "/usr/bin/setpriv", ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", Products.vouchctl] + full,
                stdin: stdin)
        }
        return try runProcess(Products.vouchctl, full, stdin: stdin)
    }

    func logText() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    deinit {
        if let p = process, p.isRunning {
            p.terminate()
            p.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

struct TestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension SecretBytes {
    static func text(_ s: String) -> SecretBytes { SecretBytes(utf8: s) }
}

/// Whether the tests run as root (needed to run a client as another uid).
var runningAsRoot: Bool { getuid() == 0 }
