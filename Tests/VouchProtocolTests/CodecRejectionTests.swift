import Testing
import VouchSecrets

@testable import VouchProtocol

/// What the codec refuses, and that it refuses it with the documented status
/// and a message naming the field, never by crashing.
@Suite struct CodecRejectionTests {
    /// The status and message of a payload that must not decode.
    func failure(_ payload: [UInt8]) -> (id: UInt32, opcode: UInt8, status: Status, message: String)? {
        guard case .failure(let id, let opcode, let status, let message) = decodeRequest(payload) else { return nil }
        return (id, opcode, status, message)
    }

    /// A payload: header for `opcode` with id 0x01020304, then `body`.
    func payload(_ opcode: Opcode, _ body: [UInt8], version: UInt8 = 1) -> [UInt8] {
        [version, opcode.rawValue, 1, 2, 3, 4] + body
    }

    /// The body bytes of a request.
    func body(_ request: Request) -> [UInt8] {
        Array(RequestMessage(id: 0, request: request).encodeFrame().dropFirst(4 + Frame.requestHeaderSize))
    }

    // MARK: - Truncation

    static let examplePayloads: [(String, [UInt8])] =
        ProtocolDocTests.docExamples.filter {
            $0.key.hasSuffix("-request") && !["version-2-request", "ping-id-0-request"].contains($0.key)
        }
        .map { ($0.key, Array($0.value.dropFirst(4))) }
        + CodecSamples.requests.enumerated().map { i, r in
            ("\(r.opcode) sample \(i)", Array(RequestMessage(id: 7, request: r).encodeFrame().dropFirst(4)))
        }

    @Test func docExamplesAreAmongTheTruncatedPayloads() {
        let names = Set(Self.examplePayloads.map(\.0))
        for name in ["hello-request", "ping-request", "login-request", "get-user-request", "verify-token-request"] {
            #expect(names.contains(name))
        }
    }

    @Test func everyPrefixOfEveryExampleRequestIsABadRequestNamingAField() {
        for (name, full) in Self.examplePayloads {
            // The full payload decodes...
            guard case .request = decodeRequest(full) else {
                Issue.record("\(name) does not decode whole")
                continue
            }
            // ...and no strict prefix of it does.
            for n in 0..<full.count {
                let prefix = Array(full.prefix(n))
                guard let f = failure(prefix) else {
                    Issue.record("\(name): the \(n)-byte prefix decoded as a request")
                    continue
                }
                #expect(f.status == .badRequest, "\(name) prefix \(n): \(f.status)")
                if n < Frame.requestHeaderSize {
                    #expect(f.message.contains("header"), "\(name) prefix \(n): \(f.message)")
                } else {
                    // The header was read: its id and opcode are echoed and the field is named.
                    #expect(
                        f.id == UInt32(full[2]) << 24 | UInt32(full[3]) << 16 | UInt32(full[4]) << 8 | UInt32(full[5]))
                    #expect(f.opcode == full[1])
                    #expect(f.message.contains("truncated field '"), "\(name) prefix \(n): \(f.message)")
                }
            }
        }
    }

    @Test func truncationNamesTheMissingField() throws {
        let login = body(
            .login(username: "bob", password: SecretBytes(utf8: "pw"), wantToken: false, context: LoginContext()))
        // username(2+3) password(2+2) options(1) service(2) rhost(2) tty(2)
        let cases: [(Int, String)] = [
            (0, "username"), (4, "username"), (5, "password"), (9, "options"), (10, "service"), (12, "rhost"),
            (14, "tty"), (15, "tty"),
        ]
        for (n, field) in cases {
            let f = try #require(failure(payload(.login, Array(login.prefix(n)))))
            #expect(f.message == "login: truncated field '\(field)'", "prefix \(n)")
        }
    }

    // MARK: - Frames

    @Test func frameCheckBoundaries() {
        let cap = Frame.defaultMaxBytes
        #expect(Frame.check(length: 0, max: cap) == .empty)
        #expect(Frame.check(length: 1, max: cap) == .ok(1))
        #expect(Frame.check(length: UInt32(cap), max: cap) == .ok(cap))
        #expect(Frame.check(length: UInt32(cap) + 1, max: cap) == .tooLarge(UInt32(cap) + 1))
        #expect(Frame.check(length: UInt32.max, max: cap) == .tooLarge(UInt32.max))
        #expect(Frame.check(length: UInt32.max, max: Int.max) == .ok(Int(UInt32.max)))
    }

    @Test func lengthPrefixNeedsFourBytes() {
        for n in 0..<4 {
            #expect([UInt8](repeating: 0xff, count: n).withUnsafeBytes { Frame.lengthPrefix($0) } == nil)
        }
        #expect([UInt8]([0x00, 0x01, 0x00, 0x00, 0xaa]).withUnsafeBytes { Frame.lengthPrefix($0) } == 65536)
    }

    @Test func splitterRefusesAZeroLengthFrame() {
        var splitter = FrameSplitter(maxFrameBytes: 1024)
        splitter.append([0, 0, 0, 0] + RequestMessage(id: 1, request: .ping).encodeFrame())
        #expect(throws: WireDecodeError("zero-length frame")) { try splitter.next() }
    }

    @Test func splitterRefusesAnOversizedPrefixBeforeItsPayloadArrives() throws {
        var splitter = FrameSplitter(maxFrameBytes: 65536)
        // Only the prefix: the refusal must not wait for 65537 bytes.
        splitter.append([0x00, 0x01, 0x00, 0x01])
        #expect(throws: WireDecodeError("frame of 65537 bytes exceeds the cap of 65536")) { try splitter.next() }

        var huge = FrameSplitter(maxFrameBytes: 65536)
        huge.append([0xff, 0xff, 0xff, 0xff])
        #expect(throws: WireDecodeError.self) { try huge.next() }
    }

    @Test func splitterAcceptsAFrameOfExactlyTheCap() throws {
        var splitter = FrameSplitter(maxFrameBytes: 1024)
        let payload = [UInt8](repeating: 7, count: 1024)
        splitter.append([0, 0, 4, 0])
        #expect(try splitter.next() == nil)
        splitter.append(payload.prefix(1023))
        #expect(try splitter.next() == nil)
        splitter.append([7])
        #expect(try splitter.next() == payload)
        #expect(try splitter.next() == nil)
    }

    @Test func splitterWaitsForAnIncompletePrefix() throws {
        var splitter = FrameSplitter()
        for b in [UInt8](arrayLiteral: 0, 0, 0) {
            splitter.append([b])
            #expect(try splitter.next() == nil)
        }
        splitter.append([1, 42])
        #expect(try splitter.next() == [42])
    }

    // MARK: - Header errors

    @Test(arguments: [UInt8(0), 2, 3, 0x7f, 0xff])
    func unknownVersionIsUnsupportedVersionEchoingIdAndOpcode(version: UInt8) throws {
        let f = try #require(failure(payload(.login, [0xde, 0xad], version: version)))
        #expect(f.status == .unsupportedVersion)
        #expect(f.status.rawValue == 9)
        #expect(f.id == 0x0102_0304)
        #expect(f.opcode == Opcode.login.rawValue)
        #expect(f.message == "protocol version \(version) is not supported (supported: 1-1)")
    }

    @Test func unknownOpcodesAreUnknownOpcodeEchoingTheId() throws {
        let known = Set(Opcode.allCases.map(\.rawValue))
        for raw in UInt8.min...UInt8.max where !known.contains(raw) {
            let f = try #require(failure([1, raw, 0, 0, 1, 0]))
            #expect(f.status == .unknownOpcode, "opcode \(raw)")
            #expect(f.status.rawValue == 10)
            #expect(f.id == 256)
            #expect(f.opcode == raw)
            #expect(f.message == "unknown opcode \(raw)")
        }
    }

    // MARK: - Body errors

    @Test func trailingBytesAreABadRequest() throws {
        for request in CodecSamples.requests {
            let f = try #require(failure(payload(request.opcode, body(request) + [0])), "\(request.opcode)")
            #expect(f.status == .badRequest)
            #expect(f.message == "\(request.opcode): 1 unexpected trailing bytes")
        }
        let f = try #require(failure(payload(.ping, [1, 2, 3])))
        #expect(f.message == "ping: 3 unexpected trailing bytes")
    }

    @Test func invalidUTF8IsABadRequestNamingTheField() throws {
        let bad: [[UInt8]] = [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0x61, 0x80]]
        for bytes in bad {
            let str = [0, UInt8(bytes.count)] + bytes
            let f1 = try #require(failure(payload(.hello, str)))
            #expect(f1.status == .badRequest)
            #expect(f1.message == "hello: field 'client_name' is not valid UTF-8")

            // The username of a login.
            let login = str + [0, 1, 0x41, 0, 0, 0, 0, 0, 0, 0]
            let f2 = try #require(failure(payload(.login, login)))
            #expect(f2.status == .badRequest)
            #expect(f2.message == "login: field 'username' is not valid UTF-8")

            // An email inside an opt<str>.
            let create = [0, 1, 0x61, 1] + str + [0, 1, 0x41, 1]
            let f3 = try #require(failure(payload(.createUser, create)))
            #expect(f3.message == "create_user: field 'email' is not valid UTF-8")
        }
    }

    /// Issue 11: a secret is "like str": invalid UTF-8 in any password or
    /// token field is `bad request` naming the field, for every opcode.
    @Test func invalidUTF8InASecretIsABadRequestNamingTheField() throws {
        let good = [0, 3] + Array("pw1".utf8)
        let bad: [[UInt8]] = [[0, 1, 0xff], [0, 2, 0xc3, 0x28], [0, 3, 0xed, 0xa0, 0x80], [0, 2, 0xc0, 0xaf]]
        let user = [0, 3] + Array("bob".utf8)
        let selector: [UInt8] = [1, 0, 0, 0, 0, 0, 0, 0, 1]
        for secret in bad {
            let cases: [(Opcode, [UInt8], String)] = [
                (.createUser, user + [0] + secret + [1], "password"),
                (.login, user + secret + [0, 0, 0, 0, 0, 0, 0], "password"),
                (.changePassword, user + secret + good, "old_password"),
                (.changePassword, user + good + secret, "new_password"),
                (.setPassword, selector + secret, "password"),
                (.verifyToken, secret, "token"),
                (.revokeToken, secret, "token"),
                (.resetPassword, secret + good, "token"),
                (.resetPassword, good + secret, "password"),
                (.verifyEmail, secret, "token"),
            ]
            for (opcode, body, field) in cases {
                let f = try #require(failure(payload(opcode, body)), "\(opcode) \(field)")
                #expect(f.status == .badRequest, "\(opcode) \(field)")
                #expect(f.message == "\(opcode): field '\(field)' is not valid UTF-8")
            }
        }
        #expect(Set(Opcode.allCases.filter(\.carriesSecret)).count == 8)
    }

    @Test func requestIDZeroIsReservedAndAShortPayloadIsConnectionLevel() throws {
        let zero = try #require(failure([1, Opcode.ping.rawValue, 0, 0, 0, 0]))
        #expect(zero.id == 0 && zero.opcode == 0 && zero.status == .badRequest)
        #expect(zero.message == "request id 0 is reserved for connection-level errors")
        let short = try #require(failure([1, 2, 0]))
        #expect(short.id == 0 && short.opcode == 0)
        #expect(short.message == "frame of 3 bytes is shorter than a request header (6 bytes)")
    }

    /// Issue 11: the permission is decided from the header; a malformed body
    /// of a refused opcode is never decoded (`permission denied`, not `bad request`).
    @Test func aRefusedOpcodeIsDeniedBeforeItsBodyIsDecoded() {
        let malformed = payload(.setPassword, [9, 9])
        let decoded = malformed.withUnsafeBytes { RequestMessage.decode(payload: $0, permits: { $0.isOpenToAnyPeer }) }
        guard case .denied(let id, let opcode) = decoded else {
            Issue.record("expected denied, got \(decoded)")
            return
        }
        #expect(id == 0x0102_0304 && opcode == .setPassword)
        // An open opcode's malformed body is still a bad request.
        let login = payload(.login, [9])
        let open = login.withUnsafeBytes { RequestMessage.decode(payload: $0, permits: { $0.isOpenToAnyPeer }) }
        guard case .failure(_, _, let status, _) = open else {
            Issue.record("expected a failure, got \(open)")
            return
        }
        #expect(status == .badRequest)
    }

    @Test func boolsOtherThanZeroOrOneAreABadRequest() throws {
        for v in [UInt8(2), 0x80, 0xff] {
            let list = try #require(failure(payload(.listUsers, [0, 0, 0, 20, 0, 0, 0, 1, 0, v])))
            #expect(list.status == .badRequest)
            #expect(list.message == "list_users: field 'descending' is not 0 or 1")

            // opt<str> email's presence byte.
            let create = try #require(failure(payload(.createUser, [0, 1, 0x61, v, 0, 1, 0x61, 0, 1, 0x41, 1])))
            #expect(create.status == .badRequest)
            #expect(create.message == "create_user: field 'email' is not 0 or 1")

            // update_user's set_email.
            let update = try #require(failure(payload(.updateUser, [1] + [UInt8](repeating: 0, count: 8) + [v, 0, 0])))
            #expect(update.message == "update_user: field 'set_email' is not 0 or 1")

            let events = try #require(failure(payload(.listEvents, [v] + [UInt8](repeating: 0, count: 12))))
            #expect(events.message == "list_events: field 'has_user' is not 0 or 1")
        }
    }

    @Test func unknownFlagBitsAreABadRequest() throws {
        for bit in [UInt8(0x10), 0x20, 0x40, 0x80, 0xff] {
            let create = body(
                .createUser(username: "bob", email: nil, password: SecretBytes(utf8: "pw"), flags: .active))
            var bad = create
            bad[bad.count - 1] = bit
            let f1 = try #require(failure(payload(.createUser, bad)))
            #expect(f1.status == .badRequest)
            #expect(f1.message == "create_user: unknown flag bits")

            let update = body(.updateUser(user: .id(1), email: nil, flagMask: [], flagValues: []))
            for position in [update.count - 2, update.count - 1] {
                var badUpdate = update
                badUpdate[position] = bit
                let f2 = try #require(failure(payload(.updateUser, badUpdate)))
                #expect(f2.status == .badRequest)
                #expect(f2.message == "update_user: unknown flag bits")
            }
        }
    }

    @Test func unknownLoginOptionBitsAreABadRequest() throws {
        var login = body(
            .login(username: "bob", password: SecretBytes(utf8: "pw"), wantToken: false, context: LoginContext()))
        login[9] = 2
        let f = try #require(failure(payload(.login, login)))
        #expect(f.status == .badRequest)
        #expect(f.message == "login: unknown login option bits")
    }

    @Test func unknownSelectorKindAndSortOrderAreABadRequest() throws {
        for kind in [UInt8(0), 5, 0xff] {
            let f = try #require(failure(payload(.getUser, [kind, 0, 1, 0x61])))
            #expect(f.status == .badRequest)
            #expect(f.message == "get_user: unknown user selector kind \(kind)")
        }
        let f = try #require(failure(payload(.listUsers, [0, 0, 0, 20, 0, 0, 0, 1, 4, 0])))
        #expect(f.status == .badRequest)
        #expect(f.message == "list_users: unknown sort order 4")
    }

    @Test func aStringLongerThanItsFrameIsTruncatedNotARead() throws {
        let f = try #require(failure(payload(.hello, [0xff, 0xff, 0x61])))
        #expect(f.status == .badRequest)
        #expect(f.message == "hello: truncated field 'client_name'")
    }

    // MARK: - Garbage

    @Test func randomPayloadsNeverCrashAndFailWithADocumentedStatus() {
        var rng = SplitMix64(seed: 0x5EED_0001)
        let allowed: Set<Status> = [.badRequest, .unsupportedVersion, .unknownOpcode]
        let opcodes = Opcode.allCases.map(\.rawValue)
        var decodedCount = 0
        for round in 0..<50_000 {
            let n = Int.random(in: 0...48, using: &rng)
            var bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            // Most rounds get a valid header, so the body decoders see the garbage.
            if round % 4 != 0, bytes.count >= 2 {
                bytes[0] = 1
                bytes[1] = opcodes.randomElement(using: &rng)!
            }
            switch decodeRequest(bytes) {
            case .request(let id, let r):
                decodedCount += 1
                // Whatever decodes re-encodes to the same bytes.
                #expect(RequestMessage(id: id, request: r).encodeFrame().dropFirst(4).elementsEqual(bytes))
            case .failure(_, _, let status, let message):
                #expect(allowed.contains(status), "round \(round): \(status)")
                #expect(!message.isEmpty)
            case .denied:
                Issue.record("round \(round): denied although every opcode is permitted")
            }
        }
        #expect(decodedCount > 0)
    }

    @Test func randomMutationsOfValidRequestsNeverCrash() {
        var rng = SplitMix64(seed: 0x5EED_0002)
        let samples = CodecSamples.requests.map { Array(RequestMessage(id: 1, request: $0).encodeFrame().dropFirst(4)) }
        for round in 0..<20_000 {
            var bytes = samples.randomElement(using: &rng)!
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                switch Int.random(in: 0..<3, using: &rng) {
                case 0 where !bytes.isEmpty:
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                case 1 where !bytes.isEmpty:
                    bytes.remove(at: Int.random(in: 0..<bytes.count, using: &rng))
                default:
                    bytes.insert(
                        UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...bytes.count, using: &rng))
                }
            }
            if case .failure(_, _, let status, _) = decodeRequest(bytes) {
                #expect([Status.badRequest, .unsupportedVersion, .unknownOpcode].contains(status), "round \(round)")
            }
        }
    }

    @Test func randomResponsesAndStreamsNeverCrash() {
        var rng = SplitMix64(seed: 0x5EED_0003)
        let opcodes = Opcode.allCases.map(\.rawValue)
        for round in 0..<20_000 {
            let n = Int.random(in: 0...64, using: &rng)
            var bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if round % 2 == 0, bytes.count >= 8 {
                bytes[0] = 1
                bytes[1] = opcodes.randomElement(using: &rng)!
                bytes[6] = 0
                bytes[7] = 0
            }
            _ = try? bytes.withUnsafeBytes { try ResponseMessage.decode(payload: $0) }

            var splitter = FrameSplitter(maxFrameBytes: 64)
            splitter.append(bytes)
            while let next = try? splitter.next() { #expect(next.count <= 64) }
        }
    }
}
