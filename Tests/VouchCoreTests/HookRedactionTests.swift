import Foundation
import Testing

@testable import VouchCore

/// Item 7 of issue 12: a hook's standard error is redacted before it is cut
/// to 8 KiB, so a token echoed near the cut never appears, even partially.
@Suite struct HookRedactionTests {
    /// Runs a `forgot_password` hook that writes `padding` bytes, then the
    /// token, then `tail`, and returns what would be logged.
    func logged(padding: Int, token: String, tail: String = "") throws -> String {
        let dir = TempDir()
        try FileManager.default.createDirectory(
            atPath: dir.path + "/forgot_password", withIntermediateDirectories: true)
        let hook = dir.path + "/forgot_password/mail"
        try """
        #!/bin/sh
        head -c \(padding) /dev/zero | tr '\\0' x >&2
        printf '%s%s' "\(token)" "\(tail)" >&2
        exit 1
        """.write(toFile: hook, atomically: true, encoding: .utf8)
        chmod(hook, 0o755)
        let runner = HookRunner(directory: dir.path, timeoutMillis: 10_000, logger: quietLogger)
        let outcomes = runner.run(event: "forgot_password", json: "{}", redact: [token])
        return try #require(outcomes.first).stderr
    }

    @Test(arguments: [8190, 8191, 8192 - 45, 8192 - 90, 8192 - 95, 8192, 100])
    func aTokenNearTheCutNeverAppears(padding: Int) throws {
        let token = try TokenCodec.make(.resetPassword).token.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        let text = try logged(padding: padding, token: token, tail: String(repeating: "y", count: 20_000))
        #expect(text.utf8.count <= HookRunner.maxStderrBytes)
        let body = token.dropFirst(4)
        // No 4-character piece of the token's random part is logged.
        for start in stride(from: 0, to: body.count - 4, by: 1) {
            let piece = body.dropFirst(start).prefix(4)
            #expect(!text.hasSuffix(String(piece)) && !text.contains(String(piece) + "y"), "\(piece) at \(padding)")
        }
        #expect(!text.contains("vrp_"))
    }

    @Test func aShortOutputIsKeptWithTheTokenRedacted() throws {
        let token = try TokenCodec.make(.verifyEmail).token.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        let text = try logged(padding: 3, token: token, tail: " failed")
        #expect(text == "xxx[redacted] failed")
    }

    @Test func aTokenShapedStringOfAnotherEventIsRedactedToo() {
        let redactor = StderrRedactor(secrets: [], limit: 100)
        let out = redactor.redact(Array("mail vch_abcDEF-_12 sent".utf8), complete: true)
        #expect(String(decoding: out, as: UTF8.self) == "mail [redacted] sent")
    }

    @Test func resetAndVerifyTokensCarry512BitsSessionTokens256() throws {
        #expect(try TokenCodec.make(.resetPassword).token.count == 4 + 86)
        #expect(try TokenCodec.make(.verifyEmail).token.count == 4 + 86)
        #expect(try TokenCodec.make(.session).token.count == 4 + 43)
        #expect(TokenCodec.purpose(of: try TokenCodec.make(.resetPassword).token) == .resetPassword)
    }
}
