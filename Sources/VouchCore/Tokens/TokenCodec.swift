import COpenSSL
import VouchSecrets

/// What a token is for.  Each purpose has its own prefix, so a token of one
/// purpose never works as another, and secret scanners can find leaked ones.
public enum TokenPurpose: Int64, Sendable, BitwiseCopyable, CaseIterable, CustomStringConvertible {
    case session = 1
    case resetPassword = 2
    case verifyEmail = 3

    public var prefix: String {
        switch self {
        case .session: return "vch_"
        case .resetPassword: return "vrp_"
        case .verifyEmail: return "vev_"
        }
    }

    public var description: String {
        switch self {
        case .session: return "session"
        case .resetPassword: return "reset password"
        case .verifyEmail: return "verify email"
        }
    }
}

/// The SHA-256 of a token: all vouch stores.  Four words, so it hashes and
/// compares without allocation.
public struct TokenDigest: Hashable, Sendable, BitwiseCopyable {
    let a: UInt64, b: UInt64, c: UInt64, d: UInt64

    public init(of token: SecretBytes) {
        // SHA-256 into a stack buffer: no heap allocation on the verify path.
        (a, b, c, d) = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { out in
            token.withUnsafeBytes { raw in
                vouch_sha256(raw.baseAddress, raw.count, out.baseAddress)
            }
            func word(_ i: Int) -> UInt64 {
                var w: UInt64 = 0
                for j in 0..<8 { w = w << 8 | UInt64(out[i * 8 + j]) }
                return w
            }
            return (word(0), word(1), word(2), word(3))
        }
    }

    /// From 32 bytes in place (a database column), without copying them into an array.
    public init?(raw: UnsafeRawBufferPointer) {
        guard raw.count == 32 else { return nil }
        func word(_ i: Int) -> UInt64 {
            var w: UInt64 = 0
            for j in 0..<8 { w = w << 8 | UInt64(raw[i * 8 + j]) }
            return w
        }
        a = word(0)
        b = word(1)
        c = word(2)
        d = word(3)
    }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        func word(_ i: Int) -> UInt64 { (0..<8).reduce(0) { $0 << 8 | UInt64(bytes[i * 8 + $1]) } }
        a = word(0)
        b = word(1)
        c = word(2)
        d = word(3)
    }

    public var bytes: [UInt8] {
        [a, b, c, d].flatMap { w in (0..<8).reversed().map { UInt8(truncatingIfNeeded: w >> (UInt64($0) * 8)) } }
    }
}

/// Makes new tokens: prefix + random bytes in unpadded base64url.  Session
/// tokens carry 32 random bytes (43 characters); password-reset and
/// email-verification tokens, which travel by email and through hooks,
/// carry 64 (86 characters), so a leak of up to half of one still leaves
/// 256 unknown bits.
public enum TokenCodec {
    /// Random bytes of a token of `purpose`.
    public static func randomBytes(_ purpose: TokenPurpose) -> Int {
        purpose == .session ? 32 : 64
    }

    /// Characters after the prefix of a token of `purpose`.
    public static func encodedLength(_ purpose: TokenPurpose) -> Int {
        (randomBytes(purpose) * 8 + 5) / 6
    }

    /// The longest `encodedLength` of any purpose.
    static let longestEncodedLength = TokenPurpose.allCases.map(encodedLength).max()!

    /// A new token of `purpose` and its digest.
    public static func make(_ purpose: TokenPurpose) throws(AccountError) -> (token: SecretBytes, digest: TokenDigest) {
        let count = randomBytes(purpose)
        var random = [UInt8](repeating: 0, count: count)
        defer { random.withUnsafeMutableBytes { SecretBytes.wipe($0) } }
        guard RAND_bytes(&random, Int32(count)) == 1 else {
            throw AccountError(.internalError, "Random number generator failed")
        }
        var text = Array(purpose.prefix.utf8)
        text.reserveCapacity(purpose.prefix.utf8.count + encodedLength(purpose))
        Base64.encode(random, alphabet: .url, into: &text)
        defer { text.withUnsafeMutableBytes { SecretBytes.wipe($0) } }
        let token = SecretBytes(text)
        return (token, TokenDigest(of: token))
    }

    /// The purpose a token's prefix claims, if its shape is right.
    public static func purpose(of token: SecretBytes) -> TokenPurpose? {
        token.withUnsafeBytes { raw -> TokenPurpose? in
            for p in TokenPurpose.allCases
            where raw.starts(with: p.prefix.utf8) && raw.count == p.prefix.utf8.count + encodedLength(p) {
                return p
            }
            return nil
        }
    }
}
