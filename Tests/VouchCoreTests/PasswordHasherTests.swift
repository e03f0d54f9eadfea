import Testing
import VouchSecrets

@testable import VouchCore

/// Known vectors, each made once with the tool named and hard-coded here.
/// The password of every vector is "correct horse battery staple".
enum KnownVectors {
    static let password = "correct horse battery staple"
    static let wrongPassword = "correct horse battery stapler"

    /// Python argon2-cffi 25.1.0, default `argon2.PasswordHasher().hash(password)`
    /// (m=65536, t=3, p=4: not our parameters, so needsRehash).
    static let argon2cffiDefault =
        "$argon2id$v=19$m=65536,t=3,p=4$2OlkOuyfoNmtN62/cqBJBQ$bQCEaBXj2E70+OCh4Fn/oJPU7I+mJWD5b+tb0IkjR34"
    /// argon2-cffi `PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(password)`.
    static let argon2cffiSmall =
        "$argon2id$v=19$m=1024,t=1,p=1$FK8cpBnvYAz5okMH8tD/Vw$zO+iq/bOxq8IWE10vUMV+duLTditWtRWtMyyPct8c+0"
    /// argon2-cffi `PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.I)`.
    static let argon2iSmall =
        "$argon2i$v=19$m=1024,t=1,p=1$CtbpXGu0XVj03tegbzrjmw$3WOGtuSlI2clhWSZx3mKO6hHaG+iAV6wJNmzWKrkIgc"
    /// Piccolo's format, made with Python:
    /// `salt = secrets.token_hex(16)`,
    /// `hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 600000).hex()`.
    static let piccoloPBKDF2 =
        "pbkdf2_sha256$600000$e8e8c50733a51a13f24b07106aa571b4$82de9e34fc30c8462ea3113c3712c211f5c02eef1d2d28c992ec9d5d247ab61c"
    /// Python bcrypt 5.0.0: `bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4))`
    /// (cost 4 keeps the test fast).
    static let bcrypt2b = "$2b$04$qdCOeMNDaDpOvluVBG1oce.wjspFrO1rVk0R9YwLZhiHVaHJYGxUS"
    /// libxcrypt via Python 3.11: `crypt.crypt(password, s)` with
    /// `s = crypt_gensalt("$y$", 0, NULL, 0)` called through ctypes (the default cost 5).
    static let yescrypt = "$y$j9T$ZrqhdF9AdPlUgAfmHtDKY/$o944cDE1u2QEep.EBk.IxxrIO4TenYdvTq/Rv1LnJE3"
    /// libxcrypt via Python 3.11: `crypt.crypt(password, crypt.mksalt(crypt.METHOD_SHA512))`.
    static let sha512crypt =
        "$6$8HTOO3HfSiTMVFk8$iwWc.POPPznHZ5Lj64s8nXv9jfZxENHWFFz4/EBmm06Qw6lRUiUccr9yvcjhwsfbTBNb7sSTHtNZrbH5fPhYN0"
    /// libxcrypt via Python 3.11: `crypt.crypt(password, crypt.mksalt(crypt.METHOD_SHA256))`.
    static let sha256crypt = "$5$96rVhGZ1W8.6e3J7$pSNc6idNLijixtxLFrhm30hZU76DQEzMqye7Y4nFfy/"

    static let all = [
        argon2cffiDefault, argon2cffiSmall, argon2iSmall, piccoloPBKDF2, bcrypt2b, yescrypt,
        sha512crypt, sha256crypt,
    ]
}

/// Cheap parameters for tests where the cost does not matter.
let fastParameters = Argon2Parameters(memoryKiB: 1024, iterations: 1, parallelism: 1)

func secret(_ s: String) -> SecretBytes { SecretBytes(utf8: s) }

@Suite struct PasswordHasherTests {
    let hasher = PasswordHasher(parameters: fastParameters)

    @Test func defaultParametersAreOWASPMinimum() {
        let p = PasswordHasher().parameters
        #expect(p.memoryKiB == 19456 && p.iterations == 2 && p.parallelism == 1)
        #expect(p.saltLength == 16 && p.hashLength == 32)
    }

    @Test(arguments: KnownVectors.all)
    func knownVectorMatchesAndNeedsRehash(_ encoded: String) {
        #expect(
            PasswordHasher().verify(secret(KnownVectors.password), against: encoded)
                == .match(needsRehash: true))
    }

    @Test(arguments: KnownVectors.all)
    func knownVectorWrongPasswordMismatches(_ encoded: String) {
        #expect(hasher.verify(secret(KnownVectors.wrongPassword), against: encoded) == .mismatch)
        #expect(hasher.verify(secret(""), against: encoded) == .mismatch)
    }

    @Test func argon2cffiHashWithOurParametersNeedsNoRehash() {
        #expect(
            hasher.verify(secret(KnownVectors.password), against: KnownVectors.argon2cffiSmall)
                == .match(needsRehash: false))
        // Same parameters but argon2i: another algorithm, so rehash.
        #expect(
            hasher.verify(secret(KnownVectors.password), against: KnownVectors.argon2iSmall)
                == .match(needsRehash: true))
    }

    @Test func defaultHasherRoundTrips() throws {
        let hasher = PasswordHasher()
        let encoded = try hasher.hash(secret("s3cret pass"))
        #expect(encoded.hasPrefix("$argon2id$v=19$m=19456,t=2,p=1$"))
        #expect(hasher.verify(secret("s3cret pass"), against: encoded) == .match(needsRehash: false))
        #expect(hasher.verify(secret("s3cret pasS"), against: encoded) == .mismatch)
    }

    @Test func ownHashRoundTripsAndSaltsDiffer() throws {
        let a = try hasher.hash(secret("pässwörd ✓"))
        let b = try hasher.hash(secret("pässwörd ✓"))
        #expect(a != b)
        #expect(a.hasPrefix("$argon2id$v=19$m=1024,t=1,p=1$"))
        #expect(hasher.verify(secret("pässwörd ✓"), against: a) == .match(needsRehash: false))
        #expect(hasher.verify(secret("pässwörd ✓"), against: b).isMatch)
        #expect(hasher.verify(secret("passwörd ✓"), against: a) == .mismatch)
    }

    @Test(arguments: [
        Argon2Parameters(memoryKiB: 2048, iterations: 1, parallelism: 1),
        Argon2Parameters(memoryKiB: 1024, iterations: 2, parallelism: 1),
        Argon2Parameters(memoryKiB: 1024, iterations: 1, parallelism: 2),
        Argon2Parameters(memoryKiB: 1024, iterations: 1, parallelism: 1, saltLength: 24),
        Argon2Parameters(memoryKiB: 1024, iterations: 1, parallelism: 1, hashLength: 48),
    ])
    func otherParametersNeedRehash(_ other: Argon2Parameters) throws {
        let encoded = try PasswordHasher(parameters: other).hash(secret("password1"))
        #expect(hasher.verify(secret("password1"), against: encoded) == .match(needsRehash: true))
        #expect(hasher.verify(secret("password2"), against: encoded) == .mismatch)
    }

    @Test(arguments: [
        "", "*", "!", "!!", "x", "plaintext", "$", "$$$$", "$argon2id$", "$argon2id$v=19$$$",
        "$argon2id$v=19$m=1024,t=1,p=1$$",
        // Missing or repeated parameters, bad numbers, bad version, bad base64.
        "$argon2id$v=19$m=1024,t=1$FK8cpBnvYAz5okMH8tD/Vw$zO+iq/bOxq8IWE10vUMV+duLTditWtRWtMyyPct8c+0",
        "$argon2id$v=19$m=1024,t=1,p=1,p=1$FK8cpBnvYAz5okMH8tD/Vw$zO+iq/bOxq8IWE10vUMV+duLTditWtRWtMyyPct8c+0",
        "$argon2id$v=19$m=-1024,t=1,p=1$FK8cpBnvYAz5okMH8tD/Vw$zO+iq/bOxq8IWE10vUMV+duLTditWtRWtMyyPct8c+0",
        "$argon2id$v=20$m=1024,t=1,p=1$FK8cpBnvYAz5okMH8tD/Vw$zO+iq/bOxq8IWE10vUMV+duLTditWtRWtMyyPct8c+0",
        "$argon2id$v=19$m=1024,t=1,p=1$FK8cpBnvYAz5okMH8tD/Vw==$zO+iq/bOxq8IWE10vUMV+duLTditWtRWtMyyPct8c+0",
        "$argon2id$v=19$m=1024,t=1,p=1$FK8c*BnvYAz5okMH8tD/Vw$zO+iq/bOxq8IWE10vUMV+duLTditWtRWtMyyPct8c+0",
        "$argon2id$v=19$m=1024,t=0,p=1$FK8cpBnvYAz5okMH8tD/Vw$zO+iq/bOxq8IWE10vUMV+duLTditWtRWtMyyPct8c+0",
        "$argon2id$v=19$m=1024,t=1,p=0$FK8cpBnvYAz5okMH8tD/Vw$zO+iq/bOxq8IWE10vUMV+duLTditWtRWtMyyPct8c+0",
        // Absurd costs: refused without running (else this test would hang).
        "$argon2id$v=19$m=4294967295,t=1,p=1$FK8cpBnvYAz5okMH8tD/Vw$zO+iq/bOxq8IWE10vUMV+duLTditWtRWtMyyPct8c+0",
        "$argon2id$v=19$m=1024,t=4294967295,p=1$FK8cpBnvYAz5okMH8tD/Vw$zO+iq/bOxq8IWE10vUMV+duLTditWtRWtMyyPct8c+0",
        "$argon2id$v=19$m=1024,t=1,p=16777215$FK8cpBnvYAz5okMH8tD/Vw$zO+iq/bOxq8IWE10vUMV+duLTditWtRWtMyyPct8c+0",
        "pbkdf2_sha256$999999999$e8e8c50733a51a13f24b07106aa571b4$82de9e34fc30c8462ea3113c3712c211f5c02eef1d2d28c992ec9d5d247ab61c",
        "pbkdf2_sha256$10000001$e8e8c50733a51a13f24b07106aa571b4$82de9e34fc30c8462ea3113c3712c211f5c02eef1d2d28c992ec9d5d247ab61c",
        "$2b$31$qdCOeMNDaDpOvluVBG1oce.wjspFrO1rVk0R9YwLZhiHVaHJYGxUS",
        "$6$rounds=999999999$8HTOO3HfSiTMVFk8$iwWc.POPPznHZ5Lj64s8nXv9jfZxENHWFFz4/EBmm06Qw6lRUiUccr9yvcjhwsfbTBNb7sSTHtNZrbH5fPhYN0",
        "$y$jzT$ZrqhdF9AdPlUgAfmHtDKY/$o944cDE1u2QEep.EBk.IxxrIO4TenYdvTq/Rv1LnJE3",
        // Garbled pbkdf2 and crypt strings.
        "pbkdf2_sha256$600000$e8e8c50733a51a13f24b07106aa571b4$82de9e34fc30c8462ea3113c3712c211f5c02eef1d2d28c992ec9d5d247ab61",
        "pbkdf2_sha256$600000$e8e8c50733a51a13f24b07106aa571b4$zzde9e34fc30c8462ea3113c3712c211f5c02eef1d2d28c992ec9d5d247ab61c",
        "pbkdf2_sha256$+600000$e8e8c50733a51a13f24b07106aa571b4$82de9e34fc30c8462ea3113c3712c211f5c02eef1d2d28c992ec9d5d247ab61c",
        "pbkdf2_sha256$0$e8e8c50733a51a13f24b07106aa571b4$82de9e34fc30c8462ea3113c3712c211f5c02eef1d2d28c992ec9d5d247ab61c",
        "pbkdf2_sha256$600000$$82de9e34fc30c8462ea3113c3712c211f5c02eef1d2d28c992ec9d5d247ab61c",
        "pbkdf2_sha256$600000$e8e8c50733a51a13f24b07106aa571b4",
        "$2b$04$qdCOeMNDaDpOvluVBG1oce.wjspFrO1rVk0R9YwLZhiHVaHJYGx",
        "$2b$4$qdCOeMNDaDpOvluVBG1oce.wjspFrO1rVk0R9YwLZhiHVaHJYGxUS",
        "$2x$04$qdCOeMNDaDpOvluVBG1oce.wjspFrO1rVk0R9YwLZhiHVaHJYGxUS",
        "$6$", "$y$", "$y$j9T$", "$5$rounds=abc$x$y",
        // Methods vouch does not accept: md5crypt, DES crypt, scrypt.
        "$1$abcdefgh$G//4keteveJpMXmT3iNmJ/", "abJnggxhB/yWI",
        "$7$C6..../....SodiumChloride$kBGj9fHznVYFQMEn/qDCfrDevf9YDtcDdKvEqHJLV8D",
        // NUL inside the stored string.
        "$2b$04$qdCOeMNDaDpOvluVBG1oce.wjspF\u{0}rO1rVk0R9YwLZhiHVaHJYGxUS",
        String(repeating: "$argon2id$", count: 10_000),
    ])
    func garbageMismatches(_ encoded: String) {
        #expect(hasher.verify(secret(KnownVectors.password), against: encoded) == .mismatch)
    }

    @Test func megabytePasswordIsAMismatch() throws {
        let encoded = try hasher.hash(secret("a"))
        let huge = SecretBytes([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
        #expect(hasher.verify(huge, against: encoded) == .mismatch)
        #expect(hasher.verify(huge, against: KnownVectors.piccoloPBKDF2) == .mismatch)
        hasher.dummyVerify(huge)
    }

    @Test func lengthLimitCountsScalars() throws {
        // 128 scalars of 4 bytes (512 bytes) is allowed; 129 is not.
        let max = String(repeating: "🔑", count: 128)
        let encoded = try hasher.hash(secret(max))
        #expect(hasher.verify(secret(max), against: encoded) == .match(needsRehash: false))
        #expect(throws: AccountError.self) { try hasher.hash(secret(max + "a")) }
        #expect(throws: AccountError.self) {
            try hasher.hash(secret(String(repeating: "a", count: 129)))
        }
        #expect(PasswordHasher.isOverLong(secret(String(repeating: "é", count: 129))))
        #expect(!PasswordHasher.isOverLong(secret(String(repeating: "é", count: 128))))
    }

    @Test func overLongPasswordIsNotHashedEvenIfStoredHashWouldMatch() throws {
        // A Piccolo-style hash of a 129-character password made in Python would
        // verify there; vouch refuses it without hashing.
        let long = String(repeating: "a", count: 129)
        #expect(hasher.verify(secret(long), against: KnownVectors.argon2cffiSmall) == .mismatch)
    }

    @Test func errorsNeverContainThePassword() {
        let max = String(repeating: "z", count: 200)
        do {
            _ = try hasher.hash(secret(max))
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .passwordRejected)
            #expect(!error.reason.contains("zzz"))
            #expect(error.reason == "The password is too long. (max 128)")
        }
    }

    @Test func dummyVerifyRuns() {
        hasher.dummyVerify(secret("whatever"))
        hasher.dummyVerify(secret(""))
        PasswordHasher(parameters: Argon2Parameters(memoryKiB: 8, iterations: 1, parallelism: 1))
            .dummyVerify(secret("x"))
    }

    @Test func passwordWithNULOnlyMatchesWhereBytesAreHashed() throws {
        let withNUL = SecretBytes(Array("abc".utf8) + [0] + Array("def".utf8))
        let encoded = try hasher.hash(withNUL)
        #expect(hasher.verify(withNUL, against: encoded).isMatch)
        #expect(hasher.verify(secret("abc"), against: encoded) == .mismatch)
        // crypt(3) would cut the password at NUL: refused instead.
        let nulPassword = SecretBytes(Array(KnownVectors.password.utf8) + [0, 0x78])
        #expect(hasher.verify(nulPassword, against: KnownVectors.sha512crypt) == .mismatch)
    }

    @Test(arguments: [
        "pbkdf2_sha256$600000$abc$def", "$argon2id$v=19$m=1", "$argon2i$", "$2a$12$x", "$2b$", "$2y$",
        "$y$j9T$", "$gy$", "$7$", "$6$", "$5$", "$1$", "$scrypt$ln=16",
    ])
    func looksLikeHash(_ s: String) {
        #expect(PasswordHasher.looksLikeHash(secret(s)))
    }

    @Test(arguments: [
        "", "pbkdf2_sha256", "pbkdf2_sha256 $", "argon2id", " $argon2id$", "$2c$", "$3$", "$", "$y",
        "password", "PBKDF2_SHA256$1$a$b",
    ])
    func doesNotLookLikeHash(_ s: String) {
        #expect(!PasswordHasher.looksLikeHash(secret(s)))
    }

    @Test func phcParsing() throws {
        let phc = try #require(PHCString(KnownVectors.argon2cffiDefault))
        #expect(phc.id == "argon2id")
        #expect(phc.version == 19)
        #expect(phc.parameter("m") == 65536 && phc.parameter("t") == 3 && phc.parameter("p") == 4)
        #expect(phc.salt.count == 16 && phc.hash.count == 32)
        #expect(Base64.decode("YWJj") == Array("abc".utf8))
        #expect(Base64.decode("YWI") == Array("ab".utf8))
        #expect(Base64.decode("YQ") == Array("a".utf8))
        #expect(Base64.decode("YR") == nil)  // non-zero leftover bits
        #expect(Base64.decode("Y") == nil)
        #expect(Base64.decode("YQ==") == nil)
    }
}

@Suite struct StoredFormatBoundsTests {
    @Test func knownVectorsParse() {
        #expect(Argon2Format.Stored(KnownVectors.argon2cffiDefault) != nil)
        #expect(Argon2Format.Stored(KnownVectors.argon2iSmall) != nil)
        #expect(PBKDF2Format.Stored(KnownVectors.piccoloPBKDF2)?.iterations == 600_000)
        #expect(PBKDF2Format.Stored(KnownVectors.piccoloPBKDF2)?.salt.count == 32)
        for v in [
            KnownVectors.bcrypt2b, KnownVectors.yescrypt, KnownVectors.sha512crypt,
            KnownVectors.sha256crypt,
        ] {
            #expect(CryptFormat.isAcceptable(v))
        }
        #expect(CryptFormat.isAcceptable("$6$rounds=656000$saltsalt$hash"))
    }

    @Test func absurdCostsAreRefusedBeforeHashing() {
        let salt = "FK8cpBnvYAz5okMH8tD/Vw"
        let hash = "zO+iq/bOxq8IWE10vUMV+duLTditWtRWtMyyPct8c+0"
        #expect(Argon2Format.Stored("$argon2id$v=19$m=4194304,t=1,p=1$\(salt)$\(hash)") != nil)
        #expect(Argon2Format.Stored("$argon2id$v=19$m=4194305,t=1,p=1$\(salt)$\(hash)") == nil)
        #expect(Argon2Format.Stored("$argon2id$v=19$m=1024,t=65,p=1$\(salt)$\(hash)") == nil)
        #expect(Argon2Format.Stored("$argon2id$v=19$m=1024,t=1,p=65$\(salt)$\(hash)") == nil)
        let digest = "82de9e34fc30c8462ea3113c3712c211f5c02eef1d2d28c992ec9d5d247ab61c"
        #expect(PBKDF2Format.Stored("pbkdf2_sha256$10000000$abc$\(digest)") != nil)
        #expect(PBKDF2Format.Stored("pbkdf2_sha256$10000001$abc$\(digest)") == nil)
        #expect(
            !CryptFormat.isAcceptable("$2b$17$qdCOeMNDaDpOvluVBG1oce.wjspFrO1rVk0R9YwLZhiHVaHJYGxUS"))
        #expect(!CryptFormat.isAcceptable("$6$rounds=5000001$saltsalt$hash"))
        #expect(!CryptFormat.isAcceptable("$y$jGT$ZrqhdF9AdPlUgAfmHtDKY/$o944cDE1u2QEep"))
        #expect(!CryptFormat.isAcceptable("$y$j9U$ZrqhdF9AdPlUgAfmHtDKY/$o944cDE1u2QEep"))
        #expect(!CryptFormat.isAcceptable("$y$j9T.$ZrqhdF9AdPlUgAfmHtDKY/$o944cDE1u2QEep"))
    }
}

@Suite struct VerificationTimingTests {
    /// With the default cost (31–57 ms per hash here), paths that must not
    /// reveal anything by being fast are checked for a lower bound only.
    @Test func refusedPathsStillDoTheWork() {
        let hasher = PasswordHasher()
        let clock = ContinuousClock()
        let floor = Duration.milliseconds(10)
        #expect(clock.measure { hasher.dummyVerify(secret("nobody's password")) } >= floor)
        #expect(clock.measure { _ = hasher.verify(secret("x"), against: "garbage") } >= floor)
        let huge = SecretBytes([UInt8](repeating: 0x61, count: 1_000_000))
        #expect(clock.measure { _ = hasher.verify(huge, against: KnownVectors.bcrypt2b) } >= floor)
    }
}
