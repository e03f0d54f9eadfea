import NIOCore
import Testing
import VouchProtocol
import VouchSecrets

@testable import VouchServer

/// Cutting the byte stream into requests, without a channel.
@Suite struct RequestFramerTests {
    static let ping: [UInt8] = [0, 0, 0, 6, 1, 0x02, 0, 0, 0, 7]

    func frames(_ framer: inout RequestFramer, _ buffer: inout ByteBuffer) -> [InboundFrame] {
        var out: [InboundFrame] = []
        while let frame = framer.next(from: &buffer) { out.append(frame) }
        return out
    }

    func pingID(_ frame: InboundFrame) -> UInt32? {
        if case .decoded(.request(let id, .ping)) = frame { return id }
        return nil
    }

    @Test func wholeFramesAreDecodedAndAPartialOneWaits() {
        var framer = RequestFramer(maxFrameBytes: 1024)
        var buffer = ByteBuffer(bytes: Self.ping + Self.ping + Self.ping.prefix(5))
        let got = frames(&framer, &buffer)
        #expect(got.map(pingID) == [7, 7])
        #expect(buffer.readableBytes == 5, "the partial frame stays unread")
        buffer.writeBytes(Self.ping.dropFirst(5))
        #expect(frames(&framer, &buffer).map(pingID) == [7])
        #expect(buffer.readableBytes == 0)
    }

    @Test func anOversizedPrefixIsReportedBeforeThePayloadArrivesAndPoisonsTheStream() {
        var framer = RequestFramer(maxFrameBytes: 1024)
        var buffer = ByteBuffer(bytes: [0, 0x10, 0, 0, 1, 2])
        let got = frames(&framer, &buffer)
        guard got.count == 1, case .tooLarge(let n) = got[0] else {
            Issue.record("expected one tooLarge, got \(got)")
            return
        }
        #expect(n == 0x10_0000)
        buffer.writeBytes(Self.ping)
        #expect(frames(&framer, &buffer).isEmpty, "nothing after a bad prefix is trusted")
        #expect(framer.poisoned)
    }

    @Test func aZeroLengthFrameIsReported() {
        var framer = RequestFramer(maxFrameBytes: 1024)
        var buffer = ByteBuffer(bytes: [0, 0, 0, 0] + Self.ping)
        let got = frames(&framer, &buffer)
        guard got.count == 1, case .empty = got[0] else {
            Issue.record("expected one empty, got \(got)")
            return
        }
    }

    @Test func aSecretIsWipedFromTheReceiveBufferOnceDecoded() {
        let frame = RequestMessage(id: 3, request: .verifyToken(SecretBytes(utf8: "vch_secret-token"))).encodeFrame()
        var framer = RequestFramer(maxFrameBytes: 1024)
        var buffer = ByteBuffer(bytes: frame)
        let start = buffer.readerIndex
        let got = frames(&framer, &buffer)
        #expect(got.count == 1)
        let after = buffer.getBytes(at: start, length: frame.count) ?? []
        #expect(after.allSatisfy { $0 == 0 })
    }
}
