import Foundation
import Testing
import VouchCore
import VouchProtocol
import VouchSecrets

@testable import VouchServer

/// Tokens expire on the daemon's clock: moved by the test, in process (the
/// shipped vouchd has no way to move its clock).
@Suite struct TokenExpiryTests {
    static let password = DispatcherTests.password

    static func login(wantToken: Bool) -> Request {
        .login(
            username: "alice", password: SecretBytes(utf8: password), wantToken: wantToken, context: LoginContext())
    }

    /// Issued and login tokens live as long as they were given, on the daemon's clock.
    @Test func sessionTokensExpireWithTheClock() async throws {
        let server = try InProcessServer()
        let alice = try await DispatcherTests.createAlice(server)
        guard
            case .issuedToken(let hour) = try await server.reply(
                .issueToken(user: .id(alice.id), label: "short", ttlSeconds: 3600)),
            case .login(_, let day?) = try await server.reply(Self.login(wantToken: true))
        else {
            Issue.record("no tokens")
            return
        }
        #expect(hour.expiresAt == server.clock.nowMillis() + 3600 * 1000)

        func owner(_ token: IssuedToken) async -> Int64? {
            guard case .tokenOwner(let user, _) = try? await server.reply(.verifyToken(token.token)) else { return nil }
            return user.id
        }
        server.clock.advance(millis: 3600 * 1000 - 60_000)
        #expect(await owner(hour) == alice.id)
        server.clock.advance(millis: 61_000)
        #expect(await owner(hour) == nil)
        #expect(await owner(day) == alice.id)
        guard case .tokens(let left) = try await server.reply(.listTokens(.id(alice.id))) else { return }
        #expect(left.map(\.label) == [""])
        server.clock.advance(millis: 25 * 3600 * 1000)
        #expect(await owner(day) == nil)
        // Logging out an expired session: it is gone.
        await #expect(throws: InProcessServer.Refused.self) { try await server.reply(.revokeToken(day.token)) }
        let refusal = await server.answer(.revokeToken(day.token), as: InProcessServer.user).response
        #expect(refusal.status == .invalidToken)
        guard case .tokens(let none) = try await server.reply(.listTokens(.id(alice.id))) else { return }
        #expect(none.isEmpty)
    }

    /// Reset and verification tokens live 1 hour by default, sessions 24 hours.
    @Test func resetAndVerifyTokensExpireBeforeSessions() async throws {
        let hooks = try HookRecorder(events: ["forgot_password", "request_verify"])
        let server = try InProcessServer(hooks: hooks.directory)
        let alice = try await DispatcherTests.createAlice(server)
        guard
            case .login(_, let session?) = try await server.reply(Self.login(wantToken: true))
        else {
            Issue.record("no session")
            return
        }
        _ = try await server.reply(.forgotPassword(usernameOrEmail: "alice"))
        let reset = try await hooks.token("forgot_password")
        _ = try await server.reply(.requestVerify(.id(alice.id)))
        let verify = try await hooks.token("request_verify")

        server.clock.advance(millis: 61 * 60 * 1000)
        let newPassword = SecretBytes(utf8: "battery staple 2")
        let r = await server.answer(.resetPassword(token: SecretBytes(utf8: reset), password: newPassword))
        #expect(r.response.status == .invalidToken)
        let v = await server.answer(.verifyEmail(token: SecretBytes(utf8: verify)))
        #expect(v.response.status == .invalidToken)
        #expect(await server.answer(.verifyToken(session.token)).response.status == .ok)
        server.clock.advance(millis: 24 * 3600 * 1000)
        #expect(await server.answer(.verifyToken(session.token)).response.status == .invalidToken)
        // Nothing changed: the old password still works, the email is not verified.
        guard
            case .login(let user, _) = try await server.reply(Self.login(wantToken: false))
        else {
            Issue.record("no login")
            return
        }
        #expect(!user.flags.contains(.verified))
    }
}

/// A hooks directory whose hooks save the JSON document they are given.
final class HookRecorder {
    let root: String
    var directory: String { root + "/hooks.d" }
    var output: String { root + "/out" }

    init(events: [String]) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("vouch-hooks-\(UUID())").path
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        for event in events {
            let dir = directory + "/" + event
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let script =
                "#!/bin/sh\ncat > \"\(output)/.$VOUCH_EVENT\" && mv \"\(output)/.$VOUCH_EVENT\" \"\(output)/$VOUCH_EVENT\"\n"
            try script.write(toFile: dir + "/50-record", atomically: true, encoding: .utf8)
            chmod(dir + "/50-record", 0o755)
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// The token the hook for `event` was given (waits up to 20 s for it).
    func token(_ event: String) async throws -> String {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let data = FileManager.default.contents(atPath: output + "/" + event),
                let doc = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                let token = doc["token"] as? String
            {
                return token
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw InProcessServer.Refused(status: .internalError, message: "no \(event) hook ran")
    }
}
