import Foundation
import Testing
import VouchClient
import VouchProtocol
import VouchSecrets

/// A temporary hooks directory (`hooks_dir = path`) with an output directory
/// the hooks write into.  Hooks get only PATH, LANG and VOUCH_EVENT, so the
/// scripts carry the output path baked in.
final class HookDir: @unchecked Sendable {
    let path: String
    let output: String

    init() throws {
        let template = NSTemporaryDirectory() + "vouch-hooks-XXXXXX"
        var buffer = Array(template.utf8CString)
        guard mkdtemp(&buffer) != nil else { throw TestError("mkdtemp failed") }
        let root = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        chmod(root, 0o755)
        path = root + "/hooks.d"
        output = root + "/out"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
    }

    /// The configuration line that points vouchd here.
    var configLine: String { "hooks_dir = \(path)" }

    /// Installs an executable `hooks_dir/<event>/<name>` with `body` after a `#!/bin/sh` line.
    /// `$OUT` in the body is the output directory.
    @discardableResult
    func install(_ event: String, name: String = "50-test", _ body: String) throws -> String {
        let dir = path + "/" + event
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let file = dir + "/" + name
        let script = "#!/bin/sh\nOUT='\(output)'\n" + body + "\n"
        try script.write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o755)
        return file
    }

    /// A hook that saves its standard input as `$OUT/<event>.<n>.json`
    /// (written under a temporary name, then renamed, so a reader never sees half a file),
    /// and its environment as `$OUT/<event>.<n>.env`.
    @discardableResult
    func installRecorder(_ event: String) throws -> String {
        try install(
            event,
            """
            n=$$
            tr '\\0' '\\n' < /proc/$$/environ > "$OUT/.$VOUCH_EVENT.$n.env"
            cat > "$OUT/.$VOUCH_EVENT.$n.json"
            mv "$OUT/.$VOUCH_EVENT.$n.env" "$OUT/$VOUCH_EVENT.$n.env"
            mv "$OUT/.$VOUCH_EVENT.$n.json" "$OUT/$VOUCH_EVENT.$n.json"
            """)
    }

    /// The JSON documents recorded for `event` so far.
    func recorded(_ event: String) -> [[String: Any]] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []
        return names.filter { $0.hasPrefix(event + ".") && $0.hasSuffix(".json") }.sorted().compactMap { name in
            guard let data = FileManager.default.contents(atPath: output + "/" + name) else { return nil }
            return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        }
    }

    /// The environments recorded for `event` so far, as lines.
    func environments(_ event: String) -> [[String]] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []
        return names.filter { $0.hasPrefix(event + ".") && $0.hasSuffix(".env") }.sorted().compactMap { name in
            (try? String(contentsOfFile: output + "/" + name, encoding: .utf8))?.split(separator: "\n").map(String.init)
        }
    }

    /// Waits (bounded) until `count` documents were recorded for `event`, and returns them.
    func waitForRecorded(_ event: String, count: Int = 1) async throws -> [[String: Any]] {
        try await waitUntil("\(count) \(event) hook run(s)") { self.recorded(event).count >= count }
        return recorded(event)
    }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: output + "/" + name) }

    deinit {
        try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
    }
}

/// Polls `condition` every 20 ms for at most `seconds`; throws when it never held.
func waitUntil(_ what: String, seconds: Double = 20, _ condition: () -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        guard Date() < deadline else { throw TestError("timed out waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// Polls an async `condition` every 20 ms for at most `seconds`.
func waitUntilAsync(_ what: String, seconds: Double = 20, _ condition: () async -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !(await condition()) {
        guard Date() < deadline else { throw TestError("timed out waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// Waits until at least `count` events named `event` are stored (events are
/// written in batches off the request path), and returns them.
func waitForEvents(_ client: VouchClient, _ event: String, count: Int, user: UserSelector? = nil) async throws
    -> [EventRecord]
{
    var found: [EventRecord] = []
    try await waitUntilAsync("\(count) stored \(event) event(s)") {
        found = ((try? await client.events(user: user)) ?? []).filter { $0.event == event }
        return found.count >= count
    }
    return found
}

extension TestDaemon {
    /// The given secrets that appear in the daemon's log (should be none).
    func secretsInLog(_ secrets: [String]) -> [String] {
        let log = logText()
        return secrets.filter { !$0.isEmpty && log.contains($0) }
    }

    /// How often `text` appears in the log.
    func logCount(_ text: String) -> Int { logText().components(separatedBy: text).count - 1 }

    /// Creates a user through the client; returns the record.
    func createUser(
        _ client: VouchClient, _ username: String, email: String? = nil, password: String,
        flags: AccountFlags = .active
    ) async throws -> UserRecord {
        try await client.createUser(username: username, email: email, password: .text(password), flags: flags)
    }
}

extension SecretBytes {
    /// The token as text (tests only: tokens are ASCII).
    var text: String { withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }
}

/// Whether `token` is a live session for `userId`.
func isLiveSession(_ client: VouchClient, _ token: SecretBytes, userId: Int64) async -> Bool {
    guard let result = try? await client.verifyToken(token) else { return false }
    return result.user.id == userId
}

/// Waits (bounded) until the hook recorded by `HookDir.installRecorder` for
/// `event` got a token not in `seen`; adds it to `seen` and returns it with its document.
func nextToken(_ hooks: HookDir, _ event: String, seen: inout Set<String>) async throws -> (String, [String: Any]) {
    let known = seen
    func fresh() -> (String, [String: Any])? {
        for doc in hooks.recorded(event) {
            if let token = doc["token"] as? String, !known.contains(token) { return (token, doc) }
        }
        return nil
    }
    try await waitUntil("a new token from the \(event) hook") { fresh() != nil }
    let found = fresh()!
    seen.insert(found.0)
    return found
}
