import Testing
import VouchSecrets

@testable import VouchCore

/// Issue 12 item 8: names match ignoring ASCII case only, so Unicode case
/// folding never makes two distinct names one account.
@Suite struct CaseFoldingTests {
    static let kelvinSign = "\u{212A}elvin"

    func service(_ dir: TempDir) throws -> AccountService {
        let service = AccountService(
            store: try openStore(dir), hasher: cheapHasher, policy: PasswordPolicy(), logger: quietLogger)
        try service.load()
        return service
    }

    @Test func theKelvinSignIsNotTheLetterK() throws {
        let dir = TempDir()
        let accounts = try service(dir)
        let k = try accounts.createUser(
            username: "kelvin", email: nil, password: secret("ascii horse one 1"), flags: [.active])
        expectCode(.invalidCredentials) {
            _ = try accounts.login(username: Self.kelvinSign, password: secret("ascii horse one 1"))
        }
        let sign = try accounts.createUser(
            username: Self.kelvinSign, email: nil, password: secret("sign horse two 2"), flags: [.active])
        #expect(sign.id != k.id)
        #expect(try accounts.login(username: "KELVIN", password: secret("ascii horse one 1")).id == k.id)
        #expect(try accounts.login(username: "\u{212A}ELVIN", password: secret("sign horse two 2")).id == sign.id)
        expectCode(.invalidCredentials) {
            _ = try accounts.login(username: "kelvin", password: secret("sign horse two 2"))
        }
    }

    @Test func nonASCIILettersMatchOnlyAsWritten() throws {
        let dir = TempDir()
        let accounts = try service(dir)
        let upper = try accounts.createUser(
            username: "ÖLAF", email: nil, password: secret("olaf upper 1"), flags: [.active])
        let lower = try accounts.createUser(
            username: "ölaf", email: nil, password: secret("olaf lower 2"), flags: [.active])
        #expect(upper.id != lower.id)
        #expect(try accounts.login(username: "Ölaf", password: secret("olaf upper 1")).id == upper.id)
    }

    /// A database whose keys were made by Unicode lowercasing (schema 5) is
    /// re-keyed by the migration: the names it kept apart stay apart, and a
    /// name its old key blocked can now be created.
    @Test func migrationRecomputesUnicodeLowercaseKeys() throws {
        let dir = TempDir()
        do {
            let accounts = try service(dir)
            _ = try accounts.createUser(
                username: Self.kelvinSign, email: "\u{212A}@example.com", password: secret("sign horse two 2"),
                flags: [.active])
            accounts.store.checkpointAndClose()
        }
        let db = try SQLiteDatabase(path: dir.database)
        try db.execute(
            "UPDATE users SET username_key = 'kelvin', email_key = 'k@example.com'; PRAGMA user_version = 5;")
        db.close()

        let accounts = try service(dir)
        let k = try accounts.createUser(
            username: "kelvin", email: "k@example.com", password: secret("ascii horse one 1"), flags: [.active])
        #expect(try accounts.login(username: "Kelvin", password: secret("ascii horse one 1")).id == k.id)
        #expect(try accounts.login(username: Self.kelvinSign, password: secret("sign horse two 2")).id != k.id)
    }
}
