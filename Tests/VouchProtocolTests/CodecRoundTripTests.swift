import Testing
import VouchSecrets

@testable import VouchProtocol

/// encode → decode → equal, for every request and every reply, through whole frames.
@Suite struct CodecRoundTripTests {
    @Test func samplesCoverEveryOpcodeBothWays() {
        let requestOpcodes = Set(CodecSamples.requests.map(\.opcode))
        let replyOpcodes = Set(CodecSamples.replies.map(\.0))
        for op in Opcode.allCases {
            #expect(requestOpcodes.contains(op), "no sample request for \(op)")
            #expect(replyOpcodes.contains(op), "no sample reply for \(op)")
        }
    }

    @Test(arguments: Opcode.allCases)
    func everyRequestOfThisOpcodeRoundTrips(opcode: Opcode) throws {
        let samples = CodecSamples.requests.filter { $0.opcode == opcode }
        #expect(!samples.isEmpty)
        for (i, request) in samples.enumerated() {
            let id = UInt32(i + 1) &* 2_654_435_761  // never 0: reserved
            let frame = RequestMessage(id: id, request: request).encodeFrame()
            #expect(frame.withUnsafeBytes { Frame.lengthPrefix($0) } == UInt32(frame.count - 4))
            #expect(frame[4] == Frame.protocolVersion)
            #expect(frame[5] == opcode.rawValue)
            guard case .request(let decodedID, let decoded) = decodeRequest(try payload(ofFrame: frame)) else {
                Issue.record("\(opcode) sample \(i) did not decode")
                continue
            }
            #expect(decodedID == id)
            #expect(decoded.opcode == opcode)
            #expect(same(decoded, request), "\(opcode) sample \(i) changed in the round trip")
            // And the decoded value encodes to the same bytes.
            #expect(RequestMessage(id: id, request: decoded).encodeFrame() == frame)
        }
    }

    @Test(arguments: Opcode.allCases)
    func everyReplyOfThisOpcodeRoundTrips(opcode: Opcode) throws {
        let samples = CodecSamples.replies.filter { $0.0 == opcode }.map(\.1)
        #expect(!samples.isEmpty)
        for (i, reply) in samples.enumerated() {
            let id = UInt32.max - UInt32(i)
            let frame = ResponseMessage.encodeSuccess(id: id, opcode: opcode, reply: reply)
            let response = try payload(ofFrame: frame).withUnsafeBytes { try ResponseMessage.decode(payload: $0) }
            #expect(response.id == id)
            #expect(response.opcode == opcode.rawValue)
            #expect(response.status == .ok)
            #expect(response.message == "")
            let decoded = try #require(response.reply)
            #expect(same(decoded, reply), "\(opcode) reply sample \(i) changed in the round trip")
            #expect(ResponseMessage.encodeSuccess(id: id, opcode: opcode, reply: decoded) == frame)
        }
    }

    @Test(arguments: Status.known)
    func failuresRoundTripWithTheirMessage(status: Status) throws {
        for (op, message) in [
            (Opcode.login, "Invalid username or password"), (.ping, ""), (.getUser, "User ü doesn't exist"),
        ]
        where status != .ok {
            let frame = ResponseMessage.encodeFailure(id: 77, opcode: op.rawValue, status: status, message: message)
            let response = try payload(ofFrame: frame).withUnsafeBytes { try ResponseMessage.decode(payload: $0) }
            #expect(response.id == 77)
            #expect(response.opcode == op.rawValue)
            #expect(response.status == status)
            #expect(response.message == message)
            #expect(response.reply == nil)
        }
    }

    @Test func failureWithAnEmptyBodyDecodes() throws {
        // Clients must accept a non-ok response without a message.
        let payload: [UInt8] = [1, Opcode.ping.rawValue, 0, 0, 0, 9, 0, 11]
        let response = try payload.withUnsafeBytes { try ResponseMessage.decode(payload: $0) }
        #expect(response.status == .busy)
        #expect(response.message == "")
        #expect(response.id == 9)
    }

    @Test func unknownStatusDecodesAndShowsItsNumber() throws {
        let frame = ResponseMessage.encodeFailure(id: 1, opcode: 2, status: Status(rawValue: 999), message: "new")
        let response = try payload(ofFrame: frame).withUnsafeBytes { try ResponseMessage.decode(payload: $0) }
        #expect(response.status.rawValue == 999)
        #expect(response.status.description == "status 999")
    }

    @Test func overlongFailureMessagesAreCapped() throws {
        let message = String(repeating: "x", count: 5000)
        let frame = ResponseMessage.encodeFailure(id: 1, opcode: 2, status: .internalError, message: message)
        let response = try payload(ofFrame: frame).withUnsafeBytes { try ResponseMessage.decode(payload: $0) }
        #expect(response.message == String(repeating: "x", count: 1024))
    }

    @Test func pipelinedFramesSplitByteByByte() throws {
        let requests = CodecSamples.requests
        var stream: [UInt8] = []
        for (i, r) in requests.enumerated() { stream += RequestMessage(id: UInt32(i + 1), request: r).encodeFrame() }
        var splitter = FrameSplitter(maxFrameBytes: Frame.defaultMaxBytes)
        var decoded: [(UInt32, Request)] = []
        for byte in stream {
            splitter.append([byte])
            while let payload = try splitter.next() {
                guard case .request(let id, let r) = decodeRequest(payload) else {
                    Issue.record("frame \(decoded.count) did not decode")
                    return
                }
                decoded.append((id, r))
            }
        }
        try #require(decoded.count == requests.count)
        for (i, (id, r)) in decoded.enumerated() {
            #expect(id == UInt32(i + 1))
            #expect(same(r, requests[i]))
        }
    }

    @Test func selectorsRoundTripEveryKind() {
        for s in CodecSamples.selectors {
            guard
                case .request(_, .getUser(let back)) = decodeRequest(
                    Array(RequestMessage(id: 1, request: .getUser(s)).encodeFrame().dropFirst(4)))
            else {
                Issue.record("\(s) did not decode")
                continue
            }
            #expect(back == s)
        }
    }
}
