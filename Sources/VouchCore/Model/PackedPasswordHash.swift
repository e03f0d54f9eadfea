/// A stored password hash as the user cache keeps it.
///
/// Almost every stored hash is an argon2id PHC string of vouch's own shape
/// (`$argon2id$v=19$m=…,t=…,p=…$<16-byte salt>$<32-byte hash>`, about 100
/// characters: a 144-byte heap block per user).  Such a string is kept as
/// its decoded fields, 64 bytes inline and no heap; any other string
/// (imported bcrypt, yescrypt, PBKDF2, other argon2 shapes) is kept as text.
/// `text` always gives back exactly the string that was stored: a string is
/// packed only if re-encoding its fields reproduces it byte for byte.
struct PackedPasswordHash: Hashable, Sendable {
    private enum Storage: Hashable, Sendable {
        case argon2id(Argon2idFields)
        case text(String)
    }

    private var storage: Storage

    init(_ text: String) {
        storage = Argon2idFields(exactly: text).map(Storage.argon2id) ?? .text(text)
    }

    /// The stored string.
    var text: String {
        switch storage {
        case .argon2id(let fields): return fields.phcString
        case .text(let text): return text
        }
    }

    /// Whether the hash is held as decoded fields (for tests and accounting).
    var isPacked: Bool {
        if case .argon2id = storage { return true }
        return false
    }
}

/// The fields of `$argon2id$v=19$m=M,t=T,p=P$<salt>$<hash>` with a 16-byte
/// salt and a 32-byte hash.
private struct Argon2idFields: Hashable, Sendable {
    var salt0: UInt64, salt1: UInt64
    var hash0: UInt64, hash1: UInt64, hash2: UInt64, hash3: UInt64
    var memoryKiB: UInt32, iterations: UInt32, parallelism: UInt32

    init?(exactly text: String) {
        guard text.utf8.count < 160, text.hasPrefix("$argon2id$v=19$"), let phc = PHCString(text),
            phc.id == "argon2id", phc.version == 19, phc.salt.count == 16, phc.hash.count == 32,
            phc.parameters.map(\.key) == ["m", "t", "p"],
            let m = phc.parameter("m"), let t = phc.parameter("t"), let p = phc.parameter("p")
        else { return nil }
        memoryKiB = m
        iterations = t
        parallelism = p
        (salt0, salt1) = (Self.word(phc.salt, 0), Self.word(phc.salt, 1))
        (hash0, hash1) = (Self.word(phc.hash, 0), Self.word(phc.hash, 1))
        (hash2, hash3) = (Self.word(phc.hash, 2), Self.word(phc.hash, 3))
        // Only a canonical string is packed: decimal without leading zeros and so on.
        guard phcString == text else { return nil }
    }

    var phcString: String {
        var out = "$argon2id$v=19$m=\(memoryKiB),t=\(iterations),p=\(parallelism)$"
        out += Self.base64([salt0, salt1])
        out += "$"
        out += Self.base64([hash0, hash1, hash2, hash3])
        return out
    }

    private static func word(_ bytes: [UInt8], _ i: Int) -> UInt64 {
        var w: UInt64 = 0
        for j in 0..<8 { w = w << 8 | UInt64(bytes[i * 8 + j]) }
        return w
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Standard base64 of the words' big-endian bytes, without padding.
    private static func base64(_ words: [UInt64]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(words.count * 8)
        for w in words {
            for shift in stride(from: 56, through: 0, by: -8) {
                bytes.append(UInt8(truncatingIfNeeded: w >> UInt64(shift)))
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var i = 0
        while i + 3 <= bytes.count {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [
                alphabet[Int(v >> 18)], alphabet[Int(v >> 12 & 63)], alphabet[Int(v >> 6 & 63)], alphabet[Int(v & 63)],
            ]
            i += 3
        }
        switch bytes.count - i {
        case 1:
            let v = UInt32(bytes[i]) << 16
            out += [alphabet[Int(v >> 18)], alphabet[Int(v >> 12 & 63)]]
        case 2:
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [alphabet[Int(v >> 18)], alphabet[Int(v >> 12 & 63)], alphabet[Int(v >> 6 & 63)]]
        default:
            break
        }
        return String(decoding: out, as: UTF8.self)
    }
}
