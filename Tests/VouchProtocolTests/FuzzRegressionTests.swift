import Foundation
import Testing

@testable import VouchProtocol

/// What Fuzz/FuzzDecoder.swift checks, run on the seed corpus (Fuzz/corpus/)
/// and on inputs worth keeping: the decoders never crash, a request that
/// decodes re-encodes to the same bytes, and vouchd's framer keeps to its
/// cap.  An input the fuzzer finds goes into `regressions` below (as hex,
/// with what it found).
@Suite struct FuzzRegressionTests {
    /// Inputs found by `make fuzz`, or written to pin a corner: (what it is, hex).
    static let regressions: [(String, String)] = [
        ("empty input", ""),
        ("one byte", "01"),
        ("header only, every opcode byte zero", "00 00 00 00 00 00"),
        ("maximal length prefix", "ff ff ff ff 01 02 00 00 00 01"),
        ("login with a u16 max username length", "01 11 00 00 00 01 ff ff 61"),
        ("str length exactly the rest", "01 01 00 00 00 01 00 02 61 62"),
        ("str length one past the rest", "01 01 00 00 00 01 00 03 61 62"),
        ("opt tag 2", "01 10 00 00 00 01 00 01 61 02"),
        ("update_user with email flag set and opt absent", "01 16 00 00 00 01 03 00 01 62 01 00 00 00"),
        ("list_events with a user of kind 4", "01 40 00 00 00 01 01 04 00 01 62 00 00 00 00 00 00 00 00 00 00 00 0a"),
        ("response ok to an unknown opcode", "01 7f 00 00 00 01 00 00"),
        ("response failure with a truncated message", "01 11 00 00 00 01 00 01 00 10 41"),
        ("response list_users claiming 2^32-1 users", "01 15 00 00 00 01 00 00 00 00 00 01 ff ff ff ff"),
        ("response list_events claiming 2^32-1 events", "01 40 00 00 00 01 00 00 ff ff ff ff"),
        ("response account_status state 3", "01 18 00 00 00 01 00 00 03"),
        ("invalid UTF-8 in hello", "01 01 00 00 00 01 00 02 c0 af"),
        ("two frames, the second over the cap", "00 00 00 06 01 02 00 00 00 01 00 00 10 01"),
        (
            "set_password_aging with max_age but not options bit 0 (not canonical)",
            "01 64 01 15 00 00 01 03 09 00 00 00 00 00 8a 00 00 01 c1 01 40 00 00 06"
        ),
        (
            "set_linux_account with a shell but not set bit 3 (not canonical)",
            "01 61 00 00 00 01 03 00 01 61 00 00 00 00 00 00 00 02 73 68"
        ),
    ]

    static func bytes(_ hex: String) -> [UInt8] {
        hex.split(separator: " ").map { UInt8($0, radix: 16)! }
    }

    static var corpus: [(String, [UInt8])] {
        let dir = URLish.packageRoot() + "/Fuzz/corpus"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.sorted().compactMap { name in
            FileManager.default.contents(atPath: dir + "/" + name).map { (name, Array($0)) }
        }
    }

    /// The fuzz target's checks, as expectations.
    static func check(_ input: [UInt8], _ name: String) {
        input.withUnsafeBytes { raw in
            checkRequest(raw, name)
            if let response = try? ResponseMessage.decode(payload: raw) {
                #expect(response.message.utf8.count <= 65535, "\(name)")
            }
        }
        // vouchd's own framer, as the fuzzer runs it.
        var framer = RequestFramer(maxFrameBytes: 4096)
        var consumed = 0
        while consumed < input.count {
            let cut = input[consumed...].withUnsafeBytes { framer.next(from: $0) }
            #expect(cut.consumed <= input.count - consumed, "\(name)")
            guard let frame = cut.frame else { break }
            if case .decoded = frame {
                #expect(cut.consumed >= 5 && cut.consumed <= 4 + 4096, "\(name)")
                input[(consumed + 4)..<(consumed + cut.consumed)].withUnsafeBytes { checkRequest($0, name) }
            }
            consumed += cut.consumed
        }
    }

    static func checkRequest(_ payload: UnsafeRawBufferPointer, _ name: String) {
        switch RequestMessage.decode(payload: payload) {
        case .request(let id, let request):
            let frame = RequestMessage(id: id, request: request).encodeFrame(version: payload[0])
            #expect(Array(frame.dropFirst(4)) == Array(payload), "\(name): re-encoding differs")
        case .failure(_, _, let status, let message):
            #expect(status != .ok, "\(name)")
            #expect(message.utf8.count < 4096, "\(name)")
        case .denied:
            Issue.record("\(name): denied although every opcode is permitted")
        }
    }

    @Test func seedCorpusIsPresentAndPassesTheFuzzChecks() {
        let corpus = Self.corpus
        #expect(corpus.count >= 20, "Fuzz/corpus/ is missing; run make fuzz-corpus")
        for (name, input) in corpus { Self.check(input, name) }
        // Every request seed decodes (the corpus is made of valid messages).
        for (name, input) in corpus
        where !name.hasSuffix(".frame") && !name.contains("reply") && !name.contains("refused") {
            input.withUnsafeBytes { raw in
                if case .failure(_, _, let status, let message) = RequestMessage.decode(payload: raw) {
                    #expect(status == .unsupportedVersion, "\(name): \(message)")
                }
            }
        }
    }

    @Test(arguments: regressions.map(\.0))
    func regression(name: String) {
        let hex = Self.regressions.first { $0.0 == name }!.1
        Self.check(Self.bytes(hex), name)
    }

    @Test func responseCountsLargerThanTheBodyFailWithoutAllocatingThem() {
        for hex in [
            "01 15 00 00 00 01 00 00 00 00 00 01 ff ff ff ff", "01 40 00 00 00 01 00 00 ff ff ff ff",
            "01 24 00 00 00 01 00 00 ff ff ff ff",
        ] {
            let input = Self.bytes(hex)
            let decoded = input.withUnsafeBytes { raw in try? ResponseMessage.decode(payload: raw) }
            #expect(decoded == nil, "\(hex)")
        }
    }

    @Test func everyStrictPrefixOfEveryRequestSeedIsRefused() {
        for (name, input) in Self.corpus
        where !name.hasSuffix(".frame") && !name.contains("reply") && !name.contains("refused") {
            guard input.count > 6 else { continue }
            for cut in 0..<input.count {
                let prefix = Array(input[0..<cut])
                prefix.withUnsafeBytes { raw in
                    if case .request = RequestMessage.decode(payload: raw) {
                        Issue.record("\(name) cut to \(cut) bytes decoded")
                    }
                }
            }
        }
    }
}
