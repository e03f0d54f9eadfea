import Testing
import VouchSecrets

@testable import VouchCore

/// Token digests are SHA-256 of the whole token string: the database holds
/// them, and tools (vouch-seed, backups made by older versions) must agree.
@Suite struct TokenDigestTests {
    @Test func digestIsSHA256OfTheToken() {
        // FIPS 180-2 test vector: SHA-256("abc").
        let d = TokenDigest(of: SecretBytes(utf8: "abc"))
        #expect(d.a == 0xba78_16bf_8f01_cfea)
        #expect(d.b == 0x4141_40de_5dae_2223)
        #expect(d.c == 0xb003_61a3_9617_7a9c)
        #expect(d.d == 0xb410_ff61_f200_15ad)
    }

    @Test func digestOfRawColumnMatchesDigestOfToken() {
        let token = SecretBytes(utf8: "vch_some-token-text")
        let d = TokenDigest(of: token)
        var bytes: [UInt8] = []
        for w in [d.a, d.b, d.c, d.d] {
            for shift in stride(from: 56, through: 0, by: -8) {
                bytes.append(UInt8(truncatingIfNeeded: w >> UInt64(shift)))
            }
        }
        let fromColumn = bytes.withUnsafeBytes { TokenDigest(raw: $0) }
        #expect(fromColumn == d)
    }

    @Test func fingerprintIsSHA256OfTheValue() {
        let f = AccountFlows.fingerprint("abc")
        #expect(f.prefix(4) == [0xba, 0x78, 0x16, 0xbf])
        #expect(f.suffix(4) == [0xf2, 0x00, 0x15, 0xad])
        #expect(f.count == 32)
    }
}
