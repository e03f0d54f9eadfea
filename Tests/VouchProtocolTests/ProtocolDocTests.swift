import Foundation
import Testing
import VouchSecrets

@testable import VouchProtocol

/// The hex examples in docs/PROTOCOL.md, checked byte for byte against the codec.
@Suite struct ProtocolDocTests {
    static let docExamples: [String: [UInt8]] = {
        let root = URLish.packageRoot()
        let text = (try? String(contentsOfFile: root + "/docs/PROTOCOL.md", encoding: .utf8)) ?? ""
        var examples: [String: [UInt8]] = [:]
        var current: String?
        var hex = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```hex example=") {
                current = String(line.dropFirst("```hex example=".count))
                hex = ""
            } else if line.hasPrefix("```"), let name = current {
                examples[name] = hex.split(separator: " ").map { UInt8($0, radix: 16)! }
                current = nil
            } else if current != nil {
                hex += " " + line
            }
        }
        return examples
    }()

    static let bob = UserRecord(
        id: 1, uuid: WireUUID(string: "00112233-4455-6677-8899-aabbccddeeff")!, username: "bob",
        email: nil,
        flags: .active, createdAt: 1_700_000_000_000, updatedAt: 1_700_000_000_000,
        lastLogin: 1_700_000_001_000)

    static let cases: [(String, [UInt8])] = [
        ("hello-request", RequestMessage(id: 1, request: .hello(clientName: "vouchctl")).encodeFrame()),
        (
            "hello-reply",
            ResponseMessage.encodeSuccess(
                id: 1, opcode: .hello,
                reply: .hello(
                    ServerHello(minVersion: 1, maxVersion: 1, maxFrameBytes: 65536, serverVersion: "0.1.0")))
        ),
        ("ping-request", RequestMessage(id: 7, request: .ping).encodeFrame()),
        ("ping-reply", ResponseMessage.encodeSuccess(id: 7, opcode: .ping, reply: .empty)),
        (
            "login-request",
            RequestMessage(
                id: 42,
                request: .login(
                    username: "bob", password: SecretBytes(utf8: "correct horse 1"), wantToken: false,
                    context: LoginContext())
            ).encodeFrame()
        ),
        (
            "login-reply",
            ResponseMessage.encodeSuccess(id: 42, opcode: .login, reply: .login(user: bob, token: nil))
        ),
        (
            "login-refused",
            ResponseMessage.encodeFailure(
                id: 42, opcode: Opcode.login.rawValue, status: .invalidCredentials,
                message: "Invalid username or password")
        ),
        (
            "login-token-request",
            RequestMessage(
                id: 43,
                request: .login(
                    username: "bob", password: SecretBytes(utf8: "correct horse 1"), wantToken: true,
                    context: LoginContext(service: "sshd"))
            ).encodeFrame()
        ),
        (
            "verify-token-reply",
            ResponseMessage.encodeSuccess(
                id: 9, opcode: .verifyToken, reply: .tokenOwner(user: bob, expiresAt: 1_700_086_400_000))
        ),
        ("get-user-request", RequestMessage(id: 3, request: .getUser(.any("bob"))).encodeFrame()),
        (
            "verify-token-request",
            RequestMessage(id: 9, request: .verifyToken(SecretBytes(utf8: "vch_abc"))).encodeFrame()
        ),
        ("version-2-request", RequestMessage(id: 5, request: .ping).encodeFrame(version: 2)),
        (
            "login-password-expired",
            ResponseMessage.encodeFailure(
                id: 42, opcode: Opcode.login.rawValue, status: .passwordExpired,
                message: "The password has expired and must be changed")
        ),
        (
            "get-linux-account-request",
            RequestMessage(id: 12, request: .linux(.getLinuxAccount(.username("bob")))).encodeFrame()
        ),
        (
            "set-linux-account-request",
            RequestMessage(id: 13, request: .linux(.setLinuxAccount(.username("bob"), LinuxAccountChange(login: true))))
                .encodeFrame()
        ),
        (
            "linux-account-reply",
            ResponseMessage.encodeSuccess(
                id: 13, opcode: .setLinuxAccount,
                reply: .linuxAccount(
                    LinuxAccountRecord(
                        userId: 1, username: "bob", login: true, uid: 70000, realName: "Bob", home: "/home/bob",
                        shell: "/bin/bash", passwordChangedAt: nil, passwordMaxAge: nil, effectiveMaxAge: 0,
                        mustChangePassword: false, passwordState: .current, sshKeys: [])))
        ),
        ("unsupported-version-reply", refusal(of: RequestMessage(id: 5, request: .ping).encodeFrame(version: 2))),
        ("ping-id-0-request", RequestMessage(id: 0, request: .ping).encodeFrame()),
        ("request-id-0-reply", refusal(of: RequestMessage(id: 0, request: .ping).encodeFrame())),
    ]

    /// The daemon's refusal of a request frame the decoder does not accept.
    static func refusal(of frame: [UInt8]) -> [UInt8] {
        guard
            case .failure(let id, let op, let status, let message) = Array(frame.dropFirst(4)).withUnsafeBytes({
                RequestMessage.decode(payload: $0)
            })
        else { return [] }
        return ResponseMessage.encodeFailure(id: id, opcode: op, status: status, message: message)
    }

    @Test func everyExampleIsInTheDoc() {
        for (name, _) in Self.cases {
            #expect(Self.docExamples[name] != nil, "docs/PROTOCOL.md lacks example \(name)")
        }
        #expect(Self.docExamples.count == Self.cases.count)
    }

    @Test(arguments: cases.map(\.0))
    func exampleMatchesEncoder(name: String) {
        let encoded = Self.cases.first { $0.0 == name }!.1
        let documented = Self.docExamples[name] ?? []
        #expect(documented == encoded, "\(name): the codec encodes \(Hex.string(encoded))")
    }

    @Test func documentedRequestsDecodeToTheSameRequest() throws {
        let frame = try #require(Self.docExamples["login-request"])
        let decoded = Array(frame.dropFirst(4)).withUnsafeBytes { RequestMessage.decode(payload: $0) }
        guard
            case .request(let id, .login(let username, let password, let wantToken, let context)) =
                decoded
        else {
            Issue.record("login example did not decode to a login")
            return
        }
        #expect(id == 42)
        #expect(username == "bob")
        #expect(password.constantTimeEquals(SecretBytes(utf8: "correct horse 1")))
        #expect(!wantToken)
        #expect(context == LoginContext())

        let reply = try #require(Self.docExamples["login-reply"])
        let response = try Array(reply.dropFirst(4)).withUnsafeBytes {
            try ResponseMessage.decode(payload: $0)
        }
        guard case .login(let user, nil) = response.reply else {
            Issue.record("login reply did not decode")
            return
        }
        #expect(user == Self.bob)
    }
}

enum Hex {
    static func string(_ bytes: [UInt8]) -> String {
        bytes.map { b in
            let s = String(b, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined(separator: " ")
    }
}

enum URLish {
    /// The package root, found from this file's path.
    static func packageRoot(file: String = #filePath) -> String {
        var parts = file.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/VouchProtocolTests/File.swift
        return parts.joined(separator: "/")
    }
}
