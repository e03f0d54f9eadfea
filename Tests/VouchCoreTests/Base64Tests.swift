import Testing

@testable import VouchCore

/// Unpadded base64 as PHC strings (standard alphabet) and tokens (URL-safe) use it.
@Suite struct Base64Tests {
    @Test func encodesEveryLengthWithoutPadding() {
        #expect(Base64.encode(Array("abc".utf8)) == "YWJj")
        #expect(Base64.encode(Array("ab".utf8)) == "YWI")
        #expect(Base64.encode(Array("a".utf8)) == "YQ")
        #expect(Base64.encode([]) == "")
    }

    @Test func theTwoAlphabetsDifferOnlyInTheLastTwoCharacters() {
        let bytes: [UInt8] = [0xFB, 0xFF, 0xBF]
        #expect(Base64.encode(bytes) == "+/+/")
        #expect(Base64.encode(bytes, alphabet: .url) == "-_-_")
    }

    @Test func decodingTheStandardEncodingGivesTheBytesBack() {
        for n in 0..<40 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let text = Base64.encode(bytes)
            #expect(text.count == (n * 4 + 2) / 3)
            if n > 0 { #expect(Base64.decode(Substring(text)) == bytes) }
        }
    }
}
