import COpenSSL
import CVouchSys

/// Piccolo's hashes: `pbkdf2_sha256$<iterations>$<salt>$<hexdigest>`,
/// PBKDF2-HMAC-SHA256 where the salt is used as its ASCII text (Piccolo's
/// salt is `secrets.token_hex(16)`, 32 hex characters, never decoded).
enum PBKDF2Format {
    static let prefix = "pbkdf2_sha256$"
    /// Piccolo's current cost.
    static let piccoloIterations: UInt32 = 600_000
    /// More than this is treated as corrupt rather than run (~5 s of CPU).
    static let maxIterations: UInt32 = 10_000_000
    static let maxSaltLength = 128
    static let digestLengths = 16...64

    struct Stored {
        var iterations: UInt32
        var salt: [UInt8]
        var digest: [UInt8]

        init?(_ encoded: String) {
            guard encoded.utf8.count <= PHCString.maxEncodedLength, encoded.hasPrefix(PBKDF2Format.prefix)
            else { return nil }
            let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
            guard parts.count == 4, let iterations = PHCString.decimal(parts[1]),
                (1...PBKDF2Format.maxIterations).contains(iterations)
            else { return nil }
            let salt = Array(parts[2].utf8)
            guard !salt.isEmpty, salt.count <= PBKDF2Format.maxSaltLength,
                salt.allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
                let digest = PBKDF2Format.hexDecode(parts[3]),
                PBKDF2Format.digestLengths.contains(digest.count)
            else { return nil }
            self.iterations = iterations
            self.salt = salt
            self.digest = digest
        }
    }

    /// Whether `password` derives `stored.digest`; nil when OpenSSL failed.
    static func verify(_ password: UnsafeRawBufferPointer, against stored: Stored) -> Bool? {
        var computed = [UInt8](repeating: 0, count: stored.digest.count)
        defer { computed.withUnsafeMutableBytes { cvouch_secure_zero($0.baseAddress, $0.count) } }
        // OpenSSL wants a non-null pointer even for an empty password.
        var empty: UInt8 = 0
        let rc = computed.withUnsafeMutableBytes { out in
            withUnsafePointer(to: &empty) { emptyPtr in
                let pass =
                    password.baseAddress?.assumingMemoryBound(to: CChar.self)
                    ?? UnsafeRawPointer(emptyPtr).assumingMemoryBound(to: CChar.self)
                return PKCS5_PBKDF2_HMAC(
                    pass, Int32(password.count), stored.salt, Int32(stored.salt.count),
                    Int32(stored.iterations), EVP_sha256(), Int32(out.count),
                    out.baseAddress?.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard rc == 1 else { return nil }
        return CRYPTO_memcmp(computed, stored.digest, computed.count) == 0
    }

    static func hexDecode(_ s: Substring) -> [UInt8]? {
        let utf8 = Array(s.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let hi = nibble(utf8[i]), let lo = nibble(utf8[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
