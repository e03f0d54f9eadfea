import Foundation
import Testing
import VouchClient
import VouchProtocol

/// Issue 11: invalid UTF-8 in a password or token field was answered 1, 6 or
/// 14 depending on the opcode.  One rule now, as PROTOCOL.md says: a secret is
/// like `str`, so invalid UTF-8 is `bad request` (8) naming the field, and
/// nothing changes.
@Suite struct SecretFieldTests {
    @Test func invalidUTF8InEverySecretFieldIsABadRequestNamingIt() async throws {
        let daemon = try await TestDaemon()
        let bob = try await daemon.createUser("bob", password: "secret field pass 1")
        let socket = try RawSocket(path: daemon.socketPath)
        let bad = Wire.str([0x63, 0xff, 0x28])
        let good = Wire.str("secret field pass 2")
        let user = Wire.str("bob")
        let selector: [UInt8] = [1] + [0, 0, 0, 0, 0, 0, 0, UInt8(bob.id)]
        let cases: [(UInt8, [UInt8], String)] = [
            (0x10, Wire.str("carol") + [0] + bad + [1], "create_user: field 'password'"),
            (0x11, Wire.loginBody(Array("bob".utf8), [0x63, 0xff, 0x28]), "login: field 'password'"),
            (0x11, Wire.loginBody(Array("bob".utf8), [0x63, 0xff, 0x28], options: 1), "login: field 'password'"),
            (0x12, user + bad + good, "change_password: field 'old_password'"),
            (0x12, user + Wire.str("secret field pass 1") + bad, "change_password: field 'new_password'"),
            (0x13, selector + bad, "set_password: field 'password'"),
            (0x20, bad, "verify_token: field 'token'"),
            (0x21, bad, "revoke_token: field 'token'"),
            (0x31, bad + good, "reset_password: field 'token'"),
            (0x31, Wire.str("vrp_abc") + bad, "reset_password: field 'password'"),
            (0x33, bad, "verify_email: field 'token'"),
        ]
        for (i, (opcode, body, field)) in cases.enumerated() {
            let id = UInt32(10 + i)
            try socket.send(Wire.request(opcode: opcode, id: id, body: body))
            let r = try socket.readResponse()
            #expect(r.id == id && r.opcode == opcode, "\(field)")
            #expect(r.status == .badRequest, "\(field): \(r.status) \(r.message)")
            #expect(r.message == "\(field) is not valid UTF-8")
        }
        // Every opcode with a secret field was covered.
        #expect(Set(cases.map(\.0)) == Set(Opcode.allCases.filter(\.carriesSecret).map(\.rawValue)))

        // Nothing changed: no user created, bob's password and record as they were.
        let client = try await daemon.client()
        #expect(try await client.users().total == 1)
        let after = try await client.login(username: "bob", password: .text("secret field pass 1"))
        #expect(after.user.failedLogins == 0)
        await client.close()
    }
}
