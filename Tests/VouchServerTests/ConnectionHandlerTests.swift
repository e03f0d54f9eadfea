import NIOCore
import NIOEmbedded
import Testing
import VouchProtocol

@testable import VouchServer

/// The connection handler on an embedded channel with virtual time, in front
/// of the real dispatcher (InProcessServer).
@Suite struct ConnectionHandlerTests {
    static let ping: [UInt8] = [0, 0, 0, 6, 1, 0x02, 0, 0, 0, 1]
    static let pingAnswer: [UInt8] = [0, 0, 0, 8, 1, 0x02, 0, 0, 0, 1, 0, 0]

    static func channel(
        _ server: InProcessServer, idle: Int64? = 3, frame: Int64 = 2, maxFrameBytes: Int = 1024
    ) throws -> EmbeddedChannel {
        let limits = ConnectionLimits(
            maxFrameBytes: maxFrameBytes, maxRequestsInFlight: 4,
            timeouts: .init(idle: idle.map { .seconds($0) }, frame: .seconds(frame)))
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.pipeline.syncOperations.addHandler(
            ConnectionHandler(
                dispatcher: server.dispatcher, peer: InProcessServer.user, limits: limits,
                registry: ConnectionRegistry(metrics: ServerMetrics()), logger: quietLogger))
        return channel
    }

    func send(_ channel: EmbeddedChannel, _ bytes: [UInt8]) throws {
        try channel.writeInbound(channel.allocator.buffer(bytes: bytes))
    }

    /// Each buffer written to the channel, as bytes.
    func writes(_ channel: EmbeddedChannel) throws -> [[UInt8]] {
        var all: [[UInt8]] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            if buffer.readableBytes > 0 { all.append(Array(buffer.readableBytesView)) }
        }
        return all
    }

    @Test func pipelinedRequestsAreAnsweredInOneWrite() throws {
        let server = try InProcessServer()
        let channel = try Self.channel(server)
        try send(channel, Self.ping + Self.ping + Self.ping)
        #expect(try writes(channel) == [Self.pingAnswer + Self.pingAnswer + Self.pingAnswer])
    }

    @Test func aFrameSplitAcrossReadsIsAnsweredOnceWhole() throws {
        let server = try InProcessServer()
        let channel = try Self.channel(server, idle: 300)
        for byte in Self.ping {
            #expect(try writes(channel).isEmpty)
            try send(channel, [byte])
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(100))
        }
        #expect(try writes(channel) == [Self.pingAnswer])
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(channel.isActive)
    }

    @Test func pingsAreKeepalivesThatDoNotPostponeIdleness() throws {
        let server = try InProcessServer()
        let channel = try Self.channel(server)
        for _ in 0..<5 {
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(500))
            try send(channel, Self.ping)
        }
        #expect(try writes(channel).count == 5)
        #expect(channel.isActive)  // 2.5 s
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(500))
        #expect(!channel.isActive, "closed at the idle timeout despite the pings")
    }

    @Test func aRequestPostponesIdleness() throws {
        let server = try InProcessServer()
        let channel = try Self.channel(server)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        // account_status, open to any peer, answered from memory.
        var w = WireWriter(capacity: 32)
        let start = w.beginFrame()
        w.u8(1)
        w.u8(Opcode.accountStatus.rawValue)
        w.u32(9)
        w.string("nobody")
        w.endFrame(startingAt: start)
        try send(channel, w.bytes)
        #expect(try writes(channel).count == 1)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(2999))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive)
    }

    @Test func aFrameArrivingAByteAtATimeIsCutOffAtTheFrameTimeout() throws {
        let server = try InProcessServer()
        let channel = try Self.channel(server, idle: 300, frame: 2)
        var sent = 0
        while channel.isActive, sent < Self.ping.count {
            try send(channel, [Self.ping[sent]])
            sent += 1
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(500))
        }
        #expect(!channel.isActive)
        #expect(sent == 4 || sent == 5, "closed after \(sent) bytes")
        #expect(try writes(channel).isEmpty)
    }

    @Test func aBadLengthPrefixIsAnsweredAndTheConnectionClosesReadingNothingMore() throws {
        for (prefix, status) in [([UInt8]([0, 0, 0, 0]), Status.badRequest), ([0, 0, 4, 1], .frameTooLarge)] {
            let server = try InProcessServer()
            let channel = try Self.channel(server, idle: nil)
            try send(channel, prefix + Self.ping)
            let out = try writes(channel)
            #expect(out.count == 1)
            let answer = try #require(out.first)
            let response = answer.dropFirst(4).withUnsafeBytes { try? ResponseMessage.decode(payload: $0) }
            #expect(response?.status == status)
            #expect(response?.id == 0)
            #expect(!channel.isActive)
        }
    }

    @Test func aPeerThatDoesNotReadIsNotReadFrom() throws {
        let server = try InProcessServer()
        let channel = try Self.channel(server)
        // The channel asks to read; the handler passes it on while writable.
        channel.pipeline.read()
        #expect(channel.isActive)
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        // A read requested now is held back, and passed on when writable again.
        channel.pipeline.read()
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(channel.isActive)
    }
}
