/// Base64 without padding, in the standard alphabet (`+` `/`: the salt and
/// hash of PHC strings) or the URL-safe one (`-` `_`: tokens).
public enum Base64 {
    public enum Alphabet: Sendable {
        case standard, url

        fileprivate var characters: [UInt8] { self == .standard ? Base64.standard : Base64.url }
    }

    private static let standard = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let url = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Appends the encoding of `bytes` to `out`.
    public static func encode(_ bytes: [UInt8], alphabet: Alphabet = .standard, into out: inout [UInt8]) {
        let chars = alphabet.characters
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            for shift: UInt32 in [18, 12, 6, 0] { out.append(chars[Int((n >> shift) & 63)]) }
            i += 3
        }
        let rest = bytes.count - i
        guard rest > 0 else { return }
        let n = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
        for shift: UInt32 in [18, 12, 6].prefix(rest + 1) { out.append(chars[Int((n >> shift) & 63)]) }
    }

    /// The encoding of `bytes`.
    public static func encode(_ bytes: [UInt8], alphabet: Alphabet = .standard) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        encode(bytes, alphabet: alphabet, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes the standard alphabet; nil unless canonical (unused bits zero).
    static func decode(_ s: Substring) -> [UInt8]? {
        let utf8 = s.utf8
        guard !utf8.isEmpty, utf8.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        for c in utf8 {
            guard let v = value(c) else { return nil }
            acc = (acc << 6) | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
                acc &= (1 << UInt32(bits)) - 1
            }
        }
        // Leftover bits must be zero (canonical encoding).
        guard acc == 0 else { return nil }
        return out
    }

    /// The value of a standard-alphabet character.
    static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }
}
