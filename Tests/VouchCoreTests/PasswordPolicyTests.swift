import Testing
import VouchSecrets

@testable import VouchCore

@Suite struct PasswordPolicyTests {
    let policy = PasswordPolicy()

    func problem(_ password: String, username: String = "alice", email: String? = "alice@example.com")
        -> String?
    {
        policy.problem(with: SecretBytes(utf8: password), username: username, email: email)
    }

    @Test func defaults() {
        #expect(PasswordPolicy.maxLength == 128)
        #expect(PasswordPolicy().minLength == 8)
        #expect(PasswordPolicy(minLength: 12).minLength == 12)
    }

    @Test func acceptsAGoodPassword() {
        #expect(problem("correct horse battery staple") == nil)
        #expect(problem("Zürich-Straße 2024") == nil)
        #expect(problem("12345678", username: "", email: nil) == nil)
    }

    @Test func empty() {
        #expect(problem("") == "A password must be provided.")
    }

    @Test func invalidUTF8() {
        for bytes: [UInt8] in [
            [0xFF, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67], [0xC3], [0xED, 0xA0, 0x80],
        ] {
            #expect(
                policy.problem(with: SecretBytes(bytes), username: "alice", email: nil)
                    == "The password is not valid UTF-8.")
        }
    }

    @Test func nul() {
        let bytes = Array("abcdefgh".utf8) + [0] + Array("ijkl".utf8)
        #expect(
            policy.problem(with: SecretBytes(bytes), username: "alice", email: nil)
                == "The password must not contain a NUL character.")
    }

    @Test func tooLongCountsScalars() {
        #expect(problem(String(repeating: "x", count: 128)) == nil)
        #expect(problem(String(repeating: "🔑", count: 128)) == nil)
        #expect(problem(String(repeating: "x", count: 129)) == "The password is too long. (max 128)")
        #expect(problem(String(repeating: "é", count: 129)) == "The password is too long. (max 128)")
        let huge = SecretBytes([UInt8](repeating: 0x78, count: 1_000_000))
        #expect(
            policy.problem(with: huge, username: "alice", email: nil)
                == "The password is too long. (max 128)")
    }

    @Test func tooShortCountsScalars() {
        #expect(problem("abc1234") == "The password is too short. (min 8)")
        #expect(problem("é") == "The password is too short. (min 8)")
        // 7 scalars of 4 bytes: 28 bytes, still too short.
        #expect(problem(String(repeating: "🔑", count: 7)) == "The password is too short. (min 8)")
        #expect(problem(String(repeating: "é", count: 8)) == nil)
        let strict = PasswordPolicy(minLength: 12)
        #expect(
            strict.problem(with: SecretBytes(utf8: "elevenchars"), username: "bob", email: nil)
                == "The password is too short. (min 12)")
        #expect(
            strict.problem(with: SecretBytes(utf8: "twelve chars"), username: "bob", email: nil) == nil)
    }

    @Test(arguments: [
        "pbkdf2_sha256$600000$e8e8c50733a51a13f24b07106aa571b4$82de9e34",
        "$argon2id$v=19$m=65536,t=3,p=4$2OlkOuyfoNmtN62/cqBJBQ$bQCEaBXj2E70",
        "$2a$12$abcdefghijk", "$2b$12$abcdefghijk", "$2y$12$abcdefghijk", "$y$j9T$abcdefgh",
        "$gy$j9T$abcdefgh", "$7$C6..../....", "$6$saltsalt$hash", "$5$saltsalt$hash",
        "$1$saltsalt$hash", "$scrypt$ln=16,r=8,p=1$",
    ])
    func hashedPassword(_ password: String) {
        #expect(problem(password) == "Do not pass a hashed password.")
    }

    @Test func containsUsernameIgnoringCase() {
        #expect(problem("xxALICExx1") == "The password must not contain the username.")
        #expect(problem("alice-in-wonderland") == "The password must not contain the username.")
        #expect(
            problem("my ÖLAF password", username: "ölaf", email: nil)
                == "The password must not contain the username.")
        #expect(problem("alic-e 12345") == nil)
    }

    @Test func containsEmailLocalPartIgnoringCase() {
        #expect(
            problem("xxBob.Smithxx", username: "robert", email: "bob.smith@example.com")
                == "The password must not contain the email address.")
        // Only the local part counts.
        #expect(problem("example.com rocks", username: "robert", email: "bob.smith@example.com") == nil)
        // A local part under 3 characters is not checked.
        #expect(problem("abababababab", username: "robert", email: "ab@example.com") == nil)
        #expect(
            problem("xxabcxxxxx", username: "robert", email: "abc@example.com")
                == "The password must not contain the email address.")
        #expect(problem("xxabcxxxxx", username: "robert", email: nil) == nil)
    }

    /// Issue 11: the rule is `password_refuse_identity` (on by default);
    /// Piccolo's own fixtures (`bob` / `Bob123$$$`) trip it.
    @Test func identityRuleFollowsTheConfigKey() throws {
        let on = PasswordPolicy(config: VouchConfig())
        #expect(on.refuseIdentity)
        #expect(
            on.problem(with: SecretBytes(utf8: "Bob123$$$"), username: "bob", email: nil)
                == "The password must not contain the username.")
        var config = try ConfigLoader.parse("password_refuse_identity = no\n", fileName: "test")
        let off = PasswordPolicy(config: config)
        #expect(off.problem(with: SecretBytes(utf8: "Bob123$$$"), username: "bob", email: nil) == nil)
        #expect(off.problem(with: SecretBytes(utf8: "xxBob.Smithxx"), username: "r", email: "bob.smith@x.org") == nil)
        // The other rules stand.
        #expect(off.problem(with: SecretBytes(utf8: "$6$bob123456"), username: "bob", email: nil) != nil)
        #expect(off.problem(with: SecretBytes(utf8: "bob"), username: "bob", email: nil) != nil)
        config.passwordMinLength = 3
        #expect(PasswordPolicy(config: config).minLength == 3)
    }

    @Test func orderOfRules() {
        // Too long wins over looking like a hash and containing the username.
        let longHash = "$argon2id$" + String(repeating: "alice", count: 30)
        #expect(problem(longHash) == "The password is too long. (max 128)")
        // Too short wins over looking like a hash.
        #expect(problem("$2b$x") == "The password is too short. (min 8)")
        // A hash wins over containing the username.
        #expect(problem("$2b$12$alicealice") == "Do not pass a hashed password.")
        // Username wins over email.
        #expect(
            problem("alice.smith!", username: "alice", email: "alice.smith@example.com")
                == "The password must not contain the username.")
        // NUL wins over too long; invalid UTF-8 wins over NUL.
        let nulLong = SecretBytes([0] + [UInt8](repeating: 0x78, count: 200))
        #expect(
            policy.problem(with: nulLong, username: "a", email: nil)
                == "The password must not contain a NUL character.")
        #expect(
            policy.problem(with: SecretBytes([0, 0xFF]), username: "a", email: nil)
                == "The password is not valid UTF-8.")
    }

    @Test func validateThrowsPasswordRejected() {
        #expect(throws: AccountError.passwordRejected("The password is too short. (min 8)")) {
            try policy.validate(SecretBytes(utf8: "short"), username: "alice", email: nil)
        }
        #expect(throws: Never.self) {
            try policy.validate(SecretBytes(utf8: "long enough"), username: "alice", email: nil)
        }
    }
}
