import Foundation
import Testing
import VouchClient
import VouchProtocol

extension TestDaemon {
    /// Runs a one-shot vouchd command (migrate, --check-config) to completion.
    func vouchdCommand(_ args: [String]) throws -> ProcessResult {
        try runProcess(Products.vouchd, args, timeout: 60)
    }

    /// Creates a user through the client and returns it.
    @discardableResult
    func createUser(
        _ username: String, password: String, email: String? = nil, flags: AccountFlags = .active
    ) async throws -> UserRecord {
        let client = try await client()
        defer { Task { await client.close() } }
        return try await client.createUser(username: username, email: email, password: .text(password), flags: flags)
    }

    /// Every password must be absent from the daemon's log (it runs at `debug`).
    func expectLogFreeOf(_ secrets: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        let log = logText()
        #expect(!log.isEmpty, "the daemon logged nothing", sourceLocation: sourceLocation)
        for secret in secrets {
            #expect(
                !log.contains(secret), "the daemon's log contains the password \"\(secret)\"",
                sourceLocation: sourceLocation)
        }
    }
}

/// The refusal status of a client call that must fail.
func refusal<T>(_ body: () async throws(VouchClientError) -> T) async -> (status: Status?, message: String) {
    do {
        _ = try await body()
        return (nil, "the call succeeded")
    } catch {
        return (error.status, error.message)
    }
}

/// Parses vouchctl's `--json` output: exactly one JSON document.
func parseJSON(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(text.utf8), options: [])
}

/// Every object key anywhere in a JSON value.
func allKeys(_ value: Any) -> [String] {
    if let object = value as? [String: Any] {
        return object.keys + object.values.flatMap(allKeys)
    }
    if let array = value as? [Any] { return array.flatMap(allKeys) }
    return []
}

/// No key mentions a password or a hash.
func expectNoSecretKeys(_ value: Any, sourceLocation: SourceLocation = #_sourceLocation) {
    for key in allKeys(value) {
        let k = key.lowercased()
        #expect(!k.contains("password") && !k.contains("hash"), "JSON key \(key)", sourceLocation: sourceLocation)
    }
}

extension ProcessResult {
    var out: String { stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
    var err: String { stderr.trimmingCharacters(in: .whitespacesAndNewlines) }
}

/// A login request frame with no PAM context.
func loginRequest(_ username: String, _ password: String) -> Request {
    .login(username: username, password: .text(password), wantToken: false, context: LoginContext())
}
