import CArgon2
import COpenSSL
import CVouchSys

/// Verification of argon2 PHC strings (`$argon2id$`, and the older
/// `$argon2i$` and `$argon2d$`) by recomputing the raw hash with the stored
/// parameters and comparing in constant time.
enum Argon2Format {
    /// Bounds on parameters read from a stored string, so a corrupted or
    /// hostile row cannot make the daemon allocate or spin without end.
    static let maxMemoryKiB: UInt32 = 4 * 1024 * 1024  // 4 GiB
    static let maxIterations: UInt32 = 64
    static let maxParallelism: UInt32 = 64
    static let saltLengths = 8...64
    static let hashLengths = 4...128

    /// A parsed, bounds-checked stored argon2 hash.
    struct Stored {
        var type: argon2_type
        var version: UInt32
        var memoryKiB: UInt32
        var iterations: UInt32
        var parallelism: UInt32
        var salt: [UInt8]
        var hash: [UInt8]

        init?(_ encoded: String) {
            guard let phc = PHCString(encoded) else { return nil }
            switch phc.id {
            case "argon2id": type = Argon2_id
            case "argon2i": type = Argon2_i
            case "argon2d": type = Argon2_d
            default: return nil
            }
            // A string without v= is version 1.0 (0x10).
            version = phc.version ?? UInt32(ARGON2_VERSION_10.rawValue)
            guard
                version == UInt32(ARGON2_VERSION_10.rawValue)
                    || version == UInt32(ARGON2_VERSION_13.rawValue),
                phc.parameters.count == 3,
                let m = phc.parameter("m"), let t = phc.parameter("t"), let p = phc.parameter("p"),
                (1...Argon2Format.maxParallelism).contains(p),
                (1...Argon2Format.maxIterations).contains(t),
                m >= 8 * p, m <= Argon2Format.maxMemoryKiB,
                Argon2Format.saltLengths.contains(phc.salt.count),
                Argon2Format.hashLengths.contains(phc.hash.count)
            else { return nil }
            memoryKiB = m
            iterations = t
            parallelism = p
            salt = phc.salt
            hash = phc.hash
        }

        /// Whether this hash was made exactly as `parameters` would make it now.
        func isCurrent(_ parameters: Argon2Parameters) -> Bool {
            type == Argon2_id && version == UInt32(ARGON2_VERSION_13.rawValue)
                && memoryKiB == parameters.memoryKiB && iterations == parameters.iterations
                && parallelism == parameters.parallelism && salt.count == parameters.saltLength
                && hash.count == parameters.hashLength
        }
    }

    /// Whether `password` hashes to `stored.hash`; nil when libargon2 refused
    /// (e.g. could not allocate the memory).
    static func verify(_ password: UnsafeRawBufferPointer, against stored: Stored) -> Bool? {
        var computed = [UInt8](repeating: 0, count: stored.hash.count)
        defer { computed.withUnsafeMutableBytes { cvouch_secure_zero($0.baseAddress, $0.count) } }
        let rc = computed.withUnsafeMutableBytes { out in
            argon2_hash(
                stored.iterations, stored.memoryKiB, stored.parallelism,
                password.baseAddress, password.count, stored.salt, stored.salt.count,
                out.baseAddress, out.count, nil, 0, stored.type, stored.version)
        }
        guard rc == ARGON2_OK.rawValue else { return nil }
        return CRYPTO_memcmp(computed, stored.hash, computed.count) == 0
    }

    /// Computes an argon2id hash with `parameters` and a fixed salt and
    /// compares it with a fixed value: the work of a real verification.
    static func dummyWork(_ password: UnsafeRawBufferPointer, parameters: Argon2Parameters) {
        let salt = [UInt8](repeating: 0x5A, count: max(parameters.saltLength, 8))
        let expected = [UInt8](repeating: 0, count: max(parameters.hashLength, 4))
        var computed = expected
        defer { computed.withUnsafeMutableBytes { cvouch_secure_zero($0.baseAddress, $0.count) } }
        _ = computed.withUnsafeMutableBytes { out in
            argon2_hash(
                parameters.iterations, parameters.memoryKiB, parameters.parallelism,
                password.baseAddress, password.count, salt, salt.count,
                out.baseAddress, out.count, nil, 0, Argon2_id, UInt32(ARGON2_VERSION_13.rawValue))
        }
        _ = CRYPTO_memcmp(computed, expected, computed.count)
    }
}
