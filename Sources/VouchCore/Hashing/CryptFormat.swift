import CCrypt
import COpenSSL
import CVouchSys
import Glibc

/// crypt(3) strings verified through libxcrypt's `crypt_rn`: bcrypt
/// (`$2b$`, `$2a$`, `$2y$`), yescrypt (`$y$`, Debian's /etc/shadow default)
/// and sha-crypt (`$6$`, `$5$`).  Other crypt methods are not accepted.
///
/// The cost in each string is checked before hashing, so a corrupted row
/// cannot make a verification run for minutes.
enum CryptFormat {
    static let bcryptPrefixes = ["$2b$", "$2a$", "$2y$"]
    static let shaCryptPrefixes = ["$6$", "$5$"]
    static let yescryptPrefix = "$y$"

    /// bcrypt cost 12 is ~250 ms here; 16 is ~4 s.
    static let maxBcryptCost = 16
    /// sha512crypt 5000 rounds is ~4 ms here, so this is ~4 s.
    static let maxShaCryptRounds: UInt32 = 5_000_000
    /// Highest yescrypt N character (itoa64 index): libxcrypt's cost 11.
    static let maxYescryptNIndex = 17
    /// Highest yescrypt r character (itoa64 index): r = 32, libxcrypt's default.
    static let maxYescryptRIndex = 31

    static func handles(_ encoded: String) -> Bool {
        encoded.hasPrefix(yescryptPrefix) || bcryptPrefixes.contains(where: encoded.hasPrefix)
            || shaCryptPrefixes.contains(where: encoded.hasPrefix)
    }

    /// Whether `encoded` is a crypt string of an accepted method with a sane cost.
    static func isAcceptable(_ encoded: String) -> Bool {
        guard encoded.utf8.count <= PHCString.maxEncodedLength,
            encoded.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { return false }
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].isEmpty else { return false }
        switch parts[1] {
        case "2a", "2b", "2y":
            // $2b$NN$<53 characters>
            guard parts.count == 4, parts[2].utf8.count == 2, let cost = PHCString.decimal(parts[2]),
                (4...UInt32(maxBcryptCost)).contains(cost), parts[3].utf8.count == 53
            else { return false }
            return true
        case "5", "6":
            // $6$[rounds=N$]salt$hash
            if parts[2].hasPrefix("rounds=") {
                guard parts.count == 5, let rounds = PHCString.decimal(parts[2].dropFirst(7)),
                    rounds <= maxShaCryptRounds
                else { return false }
                return true
            }
            return parts.count == 4
        case "y":
            // $y$<flags><N><r>$salt$hash; longer parameter strings are refused.
            let params = Array(parts[2].utf8)
            guard parts.count == 5, params.count == 3, params[0] == UInt8(ascii: "j"),
                let n = itoa64Index(params[1]), n <= maxYescryptNIndex,
                let r = itoa64Index(params[2]), r <= maxYescryptRIndex
            else { return false }
            return true
        default:
            return false
        }
    }

    /// Whether crypt(password, encoded) == encoded, compared in constant
    /// time; nil when libxcrypt refused the setting, the string is not
    /// acceptable, or the password contains NUL (crypt would truncate it).
    static func verify(_ password: UnsafeRawBufferPointer, against encoded: String) -> Bool? {
        guard isAcceptable(encoded), !password.contains(0) else { return nil }
        let dataSize = MemoryLayout<crypt_data>.size
        let data = UnsafeMutableRawPointer.allocate(
            byteCount: dataSize, alignment: MemoryLayout<crypt_data>.alignment)
        data.initializeMemory(as: UInt8.self, repeating: 0, count: dataSize)
        let phrase = UnsafeMutableRawBufferPointer.allocate(
            byteCount: password.count + 1, alignment: 1)
        defer {
            cvouch_secure_zero(data, dataSize)
            data.deallocate()
            cvouch_secure_zero(phrase.baseAddress, phrase.count)
            phrase.deallocate()
        }
        phrase.copyMemory(from: password)
        phrase[password.count] = 0
        let phrasePtr = phrase.baseAddress!.assumingMemoryBound(to: CChar.self)
        return encoded.withCString { setting -> Bool? in
            guard let out = crypt_rn(phrasePtr, setting, data, Int32(dataSize)) else { return nil }
            let length = strlen(out)
            guard length == strlen(setting) else { return false }
            return CRYPTO_memcmp(out, setting, length) == 0
        }
    }

    /// Index in crypt's base64 alphabet `./0-9A-Za-z`.
    private static func itoa64Index(_ c: UInt8) -> Int? {
        switch c {
        case UInt8(ascii: "."): return 0
        case UInt8(ascii: "/"): return 1
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(c - UInt8(ascii: "0")) + 2
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return Int(c - UInt8(ascii: "A")) + 12
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return Int(c - UInt8(ascii: "a")) + 38
        default: return nil
        }
    }
}
