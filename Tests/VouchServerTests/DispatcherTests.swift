import Foundation
import Testing
import VouchCore
import VouchProtocol
import VouchSecrets

@testable import VouchServer

/// The dispatcher and the core behind it, in process: a temporary database,
/// a clock the test moves, no socket.
@Suite struct DispatcherTests {
    static let password = "correct horse 1"

    /// One request of each opcode (a new opcode does not compile until it has one).
    static func sample(_ op: Opcode) -> Request {
        let alice = UserSelector.username("alice")
        let secret = SecretBytes(utf8: "not-a-token")
        switch op {
        case .hello: return .hello(clientName: "test")
        case .ping: return .ping
        case .status: return .status
        case .createUser:
            return .createUser(username: "bob", email: nil, password: SecretBytes(utf8: password), flags: .active)
        case .login:
            return .login(
                username: "alice", password: SecretBytes(utf8: password), wantToken: false, context: LoginContext())
        case .changePassword:
            return .changePassword(
                username: "alice", old: SecretBytes(utf8: "wrong password"), new: SecretBytes(utf8: "new password 2"))
        case .setPassword: return .setPassword(user: .username("nobody"), password: SecretBytes(utf8: password))
        case .getUser: return .getUser(alice)
        case .listUsers: return .listUsers(limit: 10, page: 0, order: .id, descending: false)
        case .updateUser: return .updateUser(user: alice, email: nil, flagMask: [], flagValues: [])
        case .deleteUser: return .deleteUser(.username("nobody"))
        case .accountStatus: return .accountStatus(username: "alice")
        case .unlockUser: return .unlockUser(alice)
        case .verifyToken: return .verifyToken(secret)
        case .revokeToken: return .revokeToken(secret)
        case .revokeTokens: return .revokeTokens(alice)
        case .issueToken: return .issueToken(user: alice, label: "t", ttlSeconds: 60)
        case .listTokens: return .listTokens(alice)
        case .forgotPassword: return .forgotPassword(usernameOrEmail: "nobody")
        case .resetPassword: return .resetPassword(token: secret, password: SecretBytes(utf8: password))
        case .requestVerify: return .requestVerify(.username("nobody"))
        case .verifyEmail: return .verifyEmail(token: secret)
        case .listEvents: return .listEvents(user: nil, sinceMillis: 0, limit: 10)
        case .backupBegin: return .data(.backupBegin)
        case .backupRead: return .data(.backupRead(backupID: 99, offset: 0, maxBytes: 16))
        case .backupEnd: return .data(.backupEnd(backupID: 99))
        case .exportUsers: return .data(.exportUsers(afterID: 0, limit: 10))
        case .importBegin: return .data(.importBegin(onConflict: 0, dryRun: true))
        case .importAdd: return .data(.importAdd(importID: 99, users: []))
        case .importCommit: return .data(.importCommit(importID: 99))
        case .getLinuxAccount: return .linux(.getLinuxAccount(alice))
        case .setLinuxAccount: return .linux(.setLinuxAccount(.username("nobody"), LinuxAccountChange()))
        case .addSSHKey: return .linux(.addSSHKey(.username("nobody"), key: "ssh-ed25519 AAAA"))
        case .removeSSHKey: return .linux(.removeSSHKey(.username("nobody"), key: "ssh-ed25519 AAAA"))
        case .setPasswordAging: return .linux(.setPasswordAging(.username("nobody"), maxAge: nil, expire: false))
        }
    }

    static func createAlice(_ server: InProcessServer) async throws -> UserRecord {
        guard
            case .user(let alice) = try await server.reply(
                .createUser(
                    username: "alice", email: "alice@example.com", password: SecretBytes(utf8: Self.password),
                    flags: .active))
        else { throw InProcessServer.Refused(status: .internalError, message: "no user") }
        return alice
    }

    @Test func everyOpcodeRunsWhereItsRowOfTheTableSays() async throws {
        let server = try InProcessServer()
        _ = try await Self.createAlice(server)
        for op in Opcode.allCases {
            let request = Self.sample(op)
            #expect(request.opcode == op)
            let answer = await server.answer(request)
            let onWorker = op.traits.runs == .worker || op.traits.runs == .tokenWorker
            #expect(answer.deferred == onWorker, "\(op): \(answer.response.status)")
            #expect(answer.response.status != .unknownOpcode, "\(op)")
        }
    }

    @Test func anUnprivilegedPeerGetsOnlyTheOpcodesOpenToAnyPeer() async throws {
        let server = try InProcessServer()
        _ = try await Self.createAlice(server)
        for op in Opcode.allCases {
            let answer = await server.answer(Self.sample(op), as: InProcessServer.user)
            let denied = answer.response.status == .permissionDenied
            #expect(denied == (op.traits.access == .admin), "\(op): \(answer.response.status)")
            if denied { #expect(!answer.deferred && answer.response.message.contains("\(op)")) }
        }
    }
}
