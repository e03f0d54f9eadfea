// vouch-seed: fills a vouch database with benchmark data, fast.
//
//   vouch-seed --database PATH [--config PATH] [--users N] [--tokens M]
//              [--token-users K] [--password P]
//
// Users are `user<i>` (i from 1), email `user<i>@bench.example`, active, all
// with ONE argon2id hash of the password (computed once, with the hashing
// parameters of --config or the defaults), written in batched transactions.
// Tokens are session tokens with deterministic strings, so vouch-bench can
// present them: token i (from 0) is "vch_" + base64url(SHA-256("vouch-bench-token-<i>")),
// 43 characters, owned by user (i mod K) + 1, valid for 30 days; the database
// holds SHA-256 of the whole token string, as TokenService stores it.
// Users and tokens may be seeded in separate runs (--users 0 --tokens M --token-users K).
import COpenSSL
import FoundationEssentials
import Glibc
import Logging
import VouchCore
import VouchSecrets

func fail(_ message: String) -> Never {
    let line = Array("vouch-seed: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(1)
}

func int(_ text: String, _ name: String) -> Int {
    guard let n = Int(text), n >= 0 else { fail("\(name): not a count: \(text)") }
    return n
}

var databasePath: String?
var configPath: String?
var users = 100_000
var tokens = 0
var tokenUsers: Int?
var password = "bench password 1"
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    func value() -> String {
        guard let v = args.popFirst() else { fail("\(a) needs a value") }
        return v
    }
    switch a {
    case "--database": databasePath = value()
    case "--config": configPath = value()
    case "--users": users = int(value(), a)
    case "--tokens": tokens = int(value(), a)
    case "--token-users": tokenUsers = int(value(), a)
    case "--password": password = value()
    case "-h", "--help":
        print(
            "usage: vouch-seed --database PATH [--config PATH] [--users N] [--tokens M] [--token-users K] [--password P]"
        )
        exit(0)
    default: fail("unknown argument \(a)")
    }
}
guard let databasePath else { fail("--database is required") }

/// The benchmark's session token number `i`.
func benchToken(_ i: Int) -> String {
    let seed = Array("vouch-bench-token-\(i)".utf8)
    var digest = [UInt8](repeating: 0, count: 32)
    vouch_sha256(seed, seed.count, &digest)
    return "vch_" + Base64.encode(digest, alphabet: .url)
}

let logger = Logger(label: "vouch-seed")
let config: VouchConfig
do {
    config = try configPath.map { path throws(ConfigError) in try ConfigLoader.load(path: path) } ?? VouchConfig()
} catch {
    fail("\(error)")
}
let store: SQLiteUserStore
do {
    store = try SQLiteUserStore.open(path: databasePath, migrate: true, logger: logger)
} catch {
    fail("\(databasePath): \(error.message)")
}
let start = SystemClock().nowMillis()
do {
    if users > 0 {
        let hash = try PasswordHasher(parameters: config.argon2).hash(SecretBytes(utf8: password))
        let now = SystemClock().nowMillis()
        try store.bulkInsertUsers(count: users) { i in
            NewUserRow(
                uuid: UUID(), username: "user\(i + 1)", email: "user\(i + 1)@bench.example", passwordHash: hash,
                flags: [.active], createdAt: now)
        }
    }
    if tokens > 0 {
        let owners = tokenUsers ?? users
        guard owners > 0 else { fail("--tokens needs --users or --token-users") }
        let now = SystemClock().nowMillis()
        try store.bulkInsertTokens(count: tokens) { i in
            TokenRecord(
                id: 0, digest: TokenDigest(of: SecretBytes(utf8: benchToken(i))), purpose: .session,
                userId: Int64(i % owners + 1), label: "bench", fingerprint: nil, createdAt: now,
                expiresAt: now + 30 * 24 * 3600 * 1000)
        }
    }
} catch {
    store.checkpointAndClose()
    fail("\(error)")
}
store.checkpointAndClose()
let elapsed = Double(SystemClock().nowMillis() - start) / 1000
print("vouch-seed: \(databasePath): \(users) users, \(tokens) tokens in \(elapsed) s")
