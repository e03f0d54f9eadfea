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
    /// `needsRehash`: the stored hash uses another algorithm or weaker
    /// parameters than configured, so it should be replaced by a new argon2id hash.
    case match(needsRehash: Bool)

    public var isMatch: Bool { if case .match = self { return true } else { return false } }
}

/// Hashes new passwords with argon2id (PHC strings) and verifies every
/// format vouch accepts.  Blocking and CPU-heavy: call it from a worker
/// thread, never from an event loop.
public struct PasswordHasher: Sendable {
    public let parameters: Argon2Parameters

    public init(parameters: Argon2Parameters = Argon2Parameters()) {
        self.parameters = parameters
    }

    /// A new argon2id PHC string for `password` with a random salt.
    public func hash(_ password: SecretBytes) throws(AccountError) -> String {
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
        if encoded.hasPrefix("$argon2id$") {
            let ok = password.withUnsafeBytes { pwd in
                argon2id_verify(encoded, pwd.baseAddress, pwd.count) == ARGON2_OK.rawValue
            }
            return ok ? .match(needsRehash: false) : .mismatch
        }
        return .mismatch
    }
}
