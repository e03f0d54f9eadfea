/// A stored password hash as the user cache keeps it.
///
/// Almost every stored hash is an argon2id PHC string of vouch's own shape
/// (`$argon2id$v=19$m=…,t=…,p=…$<16-byte salt>$<32-byte hash>`, about 100
/// characters: a 144-byte heap block per user).  Such a string is kept as
/// its decoded fields, 64 bytes inline and no heap; any other string
/// (imported bcrypt, yescrypt, PBKDF2, other argon2 shapes) is kept as text.
/// `text` always gives back exactly the string that was stored: a string is
/// packed only if re-encoding its fields reproduces it byte for byte.
///
/// `description` and `debugDescription` say nothing of the hash, like
/// ``User``'s: a hash in a log line or a failed test's output is a target
/// for offline guessing.
struct PackedPasswordHash: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    private enum Storage: Hashable, Sendable {
        case argon2id(Argon2idFields)
        case text(String)
    }

    private var storage: Storage

    init(_ text: String) {
        storage = Argon2idFields(exactly: text).map(Storage.argon2id) ?? .text(text)
    }

    /// From UTF-8 in place (a database column): a string is made only when
    /// the hash cannot be packed.
    init(utf8: UnsafeBufferPointer<UInt8>) {
        storage = Argon2idFields.parse(utf8).map(Storage.argon2id) ?? .text(String(decoding: utf8, as: UTF8.self))
    }

    /// The stored string.
    var text: String {
        switch storage {
        case .argon2id(let fields): return fields.phcString
        case .text(let text): return text
        }
    }

    var description: String { "<password hash>" }
    var debugDescription: String { description }

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

    /// Parses the one canonical spelling, byte by byte and without
    /// allocating (start-up packs a million of these): decimal parameters
    /// without leading zeros, base64 whose unused trailing bits are zero.
    /// Any string it accepts re-encodes to itself.
    init?(exactly text: String) {
        var text = text
        guard let fields = text.withUTF8({ Self.parse($0) }) else { return nil }
        self = fields
    }

    private init(
        salt: (UInt64, UInt64), hash: (UInt64, UInt64, UInt64, UInt64), m: UInt32, t: UInt32, p: UInt32
    ) {
        (salt0, salt1) = salt
        (hash0, hash1, hash2, hash3) = hash
        (memoryKiB, iterations, parallelism) = (m, t, p)
    }

    private static let prefix = Array("$argon2id$v=19$m=".utf8)

    static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Argon2idFields? {
        var i = 0
        func literal(_ bytes: some Collection<UInt8>) -> Bool {
            guard b.count - i >= bytes.count else { return false }
            for c in bytes {
                guard b[i] == c else { return false }
                i += 1
            }
            return true
        }
        func decimal() -> UInt32? {
            let start = i
            var value: UInt64 = 0
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39, i - start < 10 {
                value = value * 10 + UInt64(b[i] - 0x30)
                i += 1
            }
            let digits = i - start
            guard digits > 0, value <= UInt64(UInt32.max), digits == 1 || b[start] != 0x30 else { return nil }
            return UInt32(value)
        }
        /// `count` bytes of base64, handed over as big-endian words (`count` a multiple of 8).
        func base64(bytes count: Int, _ word: (Int, UInt64) -> Void) -> Bool {
            let chars = (count * 8 + 5) / 6
            guard b.count - i >= chars else { return false }
            var acc: UInt64 = 0
            var bits = 0
            var produced = 0
            var current: UInt64 = 0
            for k in 0..<chars {
                guard let v = Base64.value(b[i + k]) else { return false }
                acc = acc << 6 | UInt64(v)
                bits += 6
                if bits >= 8 {
                    bits -= 8
                    current = current << 8 | (acc >> UInt64(bits)) & 0xFF
                    produced += 1
                    if produced % 8 == 0 {
                        word(produced / 8 - 1, current)
                        current = 0
                    }
                    acc &= (1 << UInt64(bits)) - 1
                }
            }
            guard produced == count, acc == 0 else { return false }  // canonical: unused bits zero
            i += chars
            return true
        }
        var salt: (UInt64, UInt64) = (0, 0)
        var hash: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        guard literal(prefix), let m = decimal(), literal(",t=".utf8), let t = decimal(), literal(",p=".utf8),
            let p = decimal(), literal("$".utf8),
            base64(bytes: 16, { k, w in if k == 0 { salt.0 = w } else { salt.1 = w } }), literal("$".utf8),
            base64(
                bytes: 32,
                { k, w in
                    switch k {
                    case 0: hash.0 = w
                    case 1: hash.1 = w
                    case 2: hash.2 = w
                    default: hash.3 = w
                    }
                }),
            i == b.count
        else { return nil }
        return Argon2idFields(salt: salt, hash: hash, m: m, t: t, p: p)
    }

    var phcString: String {
        var out = "$argon2id$v=19$m=\(memoryKiB),t=\(iterations),p=\(parallelism)$"
        out += Self.base64([salt0, salt1])
        out += "$"
        out += Self.base64([hash0, hash1, hash2, hash3])
        return out
    }

    /// Standard base64 of the words' big-endian bytes.
    private static func base64(_ words: [UInt64]) -> String {
        Base64.encode(
            words.flatMap { w in stride(from: 56, through: 0, by: -8).map { UInt8(truncatingIfNeeded: w >> UInt64($0)) }
            })
    }

}
