import Testing

@testable import VouchCore

@Suite struct IdentityRulesTests {
    @Test func usernameLength() {
        #expect(IdentityRules.usernameProblem(String(repeating: "a", count: 100)) == nil)
        #expect(
            IdentityRules.usernameProblem(String(repeating: "a", count: 101))
                == "The username is too long. (max 100)")
        // Counted in Unicode scalars, not bytes.
        #expect(IdentityRules.usernameProblem(String(repeating: "é", count: 100)) == nil)
        #expect(IdentityRules.usernameProblem("") == "A username must be provided.")
    }

    @Test(arguments: [
        "a b", " alice", "alice ", "al\tice", "al\nice", "al\u{A0}ice", "al\u{3000}ice",
        "al\u{2028}ice",
        "al\u{7}ice", "al\u{0}ice", "al\u{7F}ice", "al\u{85}ice", "al\u{200B}ice", "al\u{202E}ice",
        "al\u{FEFF}ice",
    ])
    func whitespaceAndControlRefused(_ name: String) {
        #expect(
            IdentityRules.usernameProblem(name)
                == "The username must not contain whitespace or control characters.")
    }

    @Test(arguments: ["a:b", "a/b", ":", "/", "root:x:0"])
    func colonAndSlashRefused(_ name: String) {
        #expect(IdentityRules.usernameProblem(name) == "The username must not contain ':' or '/'.")
    }

    /// Issue 11: `vouchctl login -help` printed help and exited 0.
    @Test(arguments: ["-help", "-", "--", "--password-stdin", "-h"])
    func leadingDashRefused(_ name: String) {
        #expect(IdentityRules.usernameProblem(name) == "The username must not begin with '-'.")
    }

    @Test(arguments: ["alice", "a-", "al-ice", "josé", "日本語", "Ölaf", "a.b-c_d", "user@example.com", "😀"])
    func acceptable(_ name: String) {
        #expect(IdentityRules.usernameProblem(name) == nil)
    }

    @Test func canonicalKeyFoldsASCIICaseOnly() {
        #expect(IdentityRules.canonicalKey("Alice") == "alice")
        #expect(IdentityRules.canonicalKey("Bob@Example.COM") == "bob@example.com")
        #expect(IdentityRules.canonicalKey("alice") != IdentityRules.canonicalKey("alice2"))
        // Issue 12 item 8: Unicode case folding must not make distinct names one account.
        #expect(IdentityRules.canonicalKey("\u{212A}elvin") != IdentityRules.canonicalKey("kelvin"))
        #expect(IdentityRules.canonicalKey("\u{212A}elvin") == "\u{212A}elvin")
        #expect(IdentityRules.canonicalKey("ÖLAF") == "Ölaf")
        #expect(IdentityRules.canonicalKey("ÖLAF") != IdentityRules.canonicalKey("ölaf"))
        #expect(IdentityRules.canonicalKey("\u{130}stanbul") != IdentityRules.canonicalKey("istanbul"))
    }

    @Test(arguments: ["a@b", "alice@example.com", "Bob.Smith+tag@Example.COM", "josé@exämple.de"])
    func validEmails(_ email: String) {
        #expect(IdentityRules.emailProblem(email) == nil)
    }

    @Test(arguments: [
        "", "alice", "@example.com", "alice@", "a@b@c", "a b@c", "a@b c", "a\t@b", "a@b\n", "a\u{0}@b",
        String(repeating: "a", count: 250) + "@b.cd",
    ])
    func invalidEmails(_ email: String) {
        #expect(IdentityRules.emailProblem(email) == "The email address is not valid.")
    }

    @Test func emailLengthLimit() {
        let ok = String(repeating: "a", count: 250) + "@b.c"  // 254
        #expect(IdentityRules.emailProblem(ok) == nil)
    }
}
