import CArgon2
import COpenSSL
import VouchSecrets

/// argon2id cost parameters (OWASP's minimum by default: m=19456 KiB, t=2, p=1).
public struct Argon2Parameters: Hashable, Sendable, CustomStringConvertible {
    public var memoryKiB: UInt32
    public var iterations: UInt32
    public var parallelism: UInt32
    public var saltLength: Int
    public var hashLength: Int

    public init(
        memoryKiB: UInt32 = 19456, iterations: UInt32 = 2, parallelism: UInt32 = 1,
        saltLength: Int = 16, hashLength: Int = 32
    ) {
        self.memoryKiB = memoryKiB
        self.iterations = iterations
        self.parallelism = parallelism
        self.saltLength = saltLength
        self.hashLength = hashLength
    }

    public var description: String { "m=\(memoryKiB),t=\(iterations),p=\(parallelism)" }
}

/// The result of checking a password against a stored hash.
public enum PasswordVerification: Hashable, Sendable {
    case mismatch
    /// `needsRehash`: the stored hash uses another algorithm or other
    /// parameters than configured, so it should be replaced by a new argon2id hash.
    case match(needsRehash: Bool)

    public var isMatch: Bool { if case .match = self { return true } else { return false } }
}

/// Hashes new passwords with argon2id (PHC strings) and verifies every
/// format vouch accepts:
///
/// - argon2id PHC strings (and `$argon2i$`, `$argon2d$`), e.g. from
///   libargon2, argon2-cffi or FastAPI Users;
/// - Piccolo's `pbkdf2_sha256$<iterations>$<salt>$<hexdigest>`;
/// - crypt(3) strings through libxcrypt: bcrypt `$2b$`/`$2a$`/`$2y$`,
///   yescrypt `$y$`, sha-crypt `$6$`/`$5$`.
///
/// A match against anything but an argon2id hash with exactly the configured
/// parameters reports `needsRehash`.  Unknown, garbled or absurdly costly
/// stored strings are a mismatch after the work of a normal verification.
///
/// Blocking and CPU-heavy: call it from a worker thread, never from an
/// event loop.
public struct PasswordHasher: Sendable {
    public let parameters: Argon2Parameters

    /// Longest password vouch hashes or verifies, in Unicode scalars (Piccolo's limit).
    public static let maxPasswordScalars = PasswordPolicy.maxLength
    /// Longest password in bytes (4 bytes per scalar at most).
    public static let maxPasswordBytes = 4 * PasswordPolicy.maxLength

    /// Prefixes of stored password hashes; a password starting with one is refused.
    public static let hashPrefixes = [
        "pbkdf2_sha256$", "$argon2", "$2a$", "$2b$", "$2y$", "$y$", "$gy$", "$7$", "$6$", "$5$",
        "$1$", "$scrypt$",
    ]

    public init(parameters: Argon2Parameters = Argon2Parameters()) {
        self.parameters = parameters
    }

    /// A new argon2id PHC string for `password` with a random salt.
    ///
    /// Throws `passwordRejected` for a password longer than
    /// ``maxPasswordScalars`` (verify would never accept it) and
    /// `internalError` when the random generator or libargon2 fails.
    public func hash(_ password: SecretBytes) throws(AccountError) -> String {
        guard !PasswordHasher.isOverLong(password) else {
            throw AccountError.passwordRejected(
                "The password is too long. (max \(PasswordPolicy.maxLength))")
        }
        var salt = [UInt8](repeating: 0, count: parameters.saltLength)
        guard RAND_bytes(&salt, Int32(salt.count)) == 1 else {
            throw AccountError(.internalError, "Random number generator failed")
        }
        let encodedLength = argon2_encodedlen(
            parameters.iterations, parameters.memoryKiB, parameters.parallelism,
            UInt32(salt.count), UInt32(parameters.hashLength), Argon2_id)
        var encoded = [CChar](repeating: 0, count: encodedLength)
        let rc = password.withUnsafeBytes { pwd in
            argon2id_hash_encoded(
                parameters.iterations, parameters.memoryKiB, parameters.parallelism,
                pwd.baseAddress, pwd.count, salt, salt.count, parameters.hashLength,
                &encoded, encodedLength)
        }
        guard rc == ARGON2_OK.rawValue else {
            throw AccountError(.internalError, "Password hashing failed")
        }
        return String(decoding: encoded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Checks `password` against a stored hash of any supported format.
    public func verify(_ password: SecretBytes, against encoded: String) -> PasswordVerification {
        guard !PasswordHasher.isOverLong(password) else {
            dummyVerify(password)
            return .mismatch
        }
        let result: Bool?
        var current = false
        if encoded.hasPrefix("$argon2") {
            if let stored = Argon2Format.Stored(encoded) {
                current = stored.isCurrent(parameters)
                result = password.withUnsafeBytes { Argon2Format.verify($0, against: stored) }
            } else {
                result = nil
            }
        } else if encoded.hasPrefix(PBKDF2Format.prefix) {
            if let stored = PBKDF2Format.Stored(encoded) {
                result = password.withUnsafeBytes { PBKDF2Format.verify($0, against: stored) }
            } else {
                result = nil
            }
        } else if CryptFormat.handles(encoded) {
            result = password.withUnsafeBytes { CryptFormat.verify($0, against: encoded) }
        } else {
            result = nil
        }
        switch result {
        case true?: return .match(needsRehash: !current)
        case false?: return .mismatch
        case nil:
            // Unknown, garbled or refused: cost the same as a real check.
            dummyVerify(password)
            return .mismatch
        }
    }

    /// Does the same work as verifying against a real argon2id hash of the
    /// configured cost (hashing with a fixed salt and comparing in constant
    /// time) and returns nothing.  Used for unknown users and over-long
    /// inputs so timing does not reveal who exists.  Only the first
    /// ``maxPasswordBytes`` bytes of an over-long password are hashed.
    public func dummyVerify(_ password: SecretBytes) {
        password.withUnsafeBytes { raw in
            let prefix = UnsafeRawBufferPointer(
                rebasing: raw[0..<min(raw.count, PasswordHasher.maxPasswordBytes)])
            Argon2Format.dummyWork(prefix, parameters: parameters)
        }
    }

    /// Whether a password string looks like a stored hash ("do not pass a
    /// hashed password"): it starts with one of ``hashPrefixes``.
    public static func looksLikeHash(_ password: SecretBytes) -> Bool {
        password.withUnsafeBytes { raw in
            hashPrefixes.contains { prefix in
                let p = prefix.utf8
                return raw.count >= p.count && zip(raw, p).allSatisfy { $0 == $1 }
            }
        }
    }

    /// More than ``maxPasswordBytes`` bytes, or more than
    /// ``maxPasswordScalars`` Unicode scalars when valid UTF-8.
    static func isOverLong(_ password: SecretBytes) -> Bool {
        if password.count > maxPasswordBytes { return true }
        if password.count <= maxPasswordScalars { return false }
        return (password.unicodeScalarCount ?? 0) > maxPasswordScalars
    }
}
