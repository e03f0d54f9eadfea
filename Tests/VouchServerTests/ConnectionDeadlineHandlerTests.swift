import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import VouchServer

/// The idle and slow-frame deadlines, on an embedded channel with virtual time.
@Suite struct ConnectionDeadlineHandlerTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func channel(idle: Int64? = 3, frame: Int64 = 2) throws -> EmbeddedChannel {
        let handler = ConnectionDeadlineHandler(
            idleTimeout: idle.map { .seconds($0) }, frameTimeout: .seconds(frame), maxFrameBytes: 1024, peerUID: 1000,
            logger: logger)
        let channel = EmbeddedChannel(handler: handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    static let ping: [UInt8] = [0, 0, 0, 6, 1, 2, 0, 0, 0, 1]
    /// A request that is not a keepalive (get_user's opcode; the body does not matter here).
    static let request: [UInt8] = [0, 0, 0, 6, 1, 0x14, 0, 0, 0, 1]

    func send(_ channel: EmbeddedChannel, _ bytes: [UInt8]) throws {
        try channel.writeInbound(channel.allocator.buffer(bytes: bytes))
    }

    @Test func anIdleConnectionIsClosedAfterTheIdleTimeout() throws {
        let channel = try Self.channel()
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(2999))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive)
    }

    @Test func requestsPostponeIdlenessAndAConnectionWithARequestInFlightIsNotIdle() throws {
        let channel = try Self.channel()
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        try send(channel, Self.request)  // a request, not answered yet
        channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        #expect(channel.isActive)
        try channel.writeOutbound(channel.allocator.buffer(bytes: [0, 0, 0, 8, 1, 0x14, 0, 0, 0, 1, 0, 0]))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(2999))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }

    @Test func pingsAreKeepalivesThatDoNotPostponeIdleness() throws {
        let channel = try Self.channel()
        let answer: [UInt8] = [0, 0, 0, 8, 1, 2, 0, 0, 0, 1, 0, 0]
        for _ in 0..<5 {
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(500))
            try send(channel, Self.ping)
            try channel.writeOutbound(channel.allocator.buffer(bytes: answer))
        }
        #expect(channel.isActive)  // 2.5 s
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(500))
        #expect(!channel.isActive, "closed at the idle timeout despite the pings")
    }

    @Test func pipelinedRequestsAnsweredInOneWriteLeaveNothingInFlight() throws {
        let channel = try Self.channel()
        try send(channel, Self.ping + Self.ping + Self.ping)  // three requests in one read
        let answer: [UInt8] = [0, 0, 0, 8, 1, 2, 0, 0, 0, 1, 0, 0]
        try channel.writeOutbound(channel.allocator.buffer(bytes: answer + answer + answer))  // one write
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(2999))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive, "three answers in one buffer count as three")
    }

    @Test func aFrameArrivingAByteAtATimeIsCutOffAtTheFrameTimeout() throws {
        let channel = try Self.channel(idle: 300, frame: 2)
        var sent = 0
        while channel.isActive, sent < Self.ping.count {
            try send(channel, [Self.ping[sent]])
            sent += 1
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(500))
        }
        #expect(!channel.isActive)
        #expect(sent == 4 || sent == 5, "closed after \(sent) bytes")
    }

    @Test func aSplitFrameCompletedInTimeIsNotCutOff() throws {
        let channel = try Self.channel(idle: 300, frame: 2)
        for byte in Self.ping {
            try send(channel, [byte])
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(100))
        }
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(channel.isActive)
        // Every byte was passed on unchanged.
        var passed: [UInt8] = []
        while let buffer = try channel.readInbound(as: ByteBuffer.self) { passed += buffer.readableBytesView }
        #expect(passed == Self.ping)
    }

    @Test func afterABadLengthPrefixNothingMoreIsPassedOnAndTheConnectionCloses() throws {
        for prefix: [UInt8] in [[0, 0, 0, 0], [0, 0, 4, 1]] {
            let channel = try Self.channel(idle: nil)
            try send(channel, prefix + [1, 2, 3])
            try send(channel, [4, 5, 6])
            #expect(try channel.readInbound(as: ByteBuffer.self)?.readableBytes == 7)
            #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
            channel.embeddedEventLoop.advanceTime(by: .seconds(2))
            #expect(!channel.isActive)
        }
    }

    @Test func noIdleTimeoutMeansOnlyTheFrameDeadline() throws {
        let channel = try Self.channel(idle: nil, frame: 2)
        channel.embeddedEventLoop.advanceTime(by: .seconds(3600))
        #expect(channel.isActive)
        try send(channel, [0, 0])
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
    }

    @Test func frameTimeoutIsTheIdleTimeoutAtMostTenSeconds() {
        #expect(ConnectionDeadlineHandler.frameTimeout(idleTimeout: .seconds(300)) == .seconds(10))
        #expect(ConnectionDeadlineHandler.frameTimeout(idleTimeout: .seconds(2)) == .seconds(2))
        #expect(ConnectionDeadlineHandler.frameTimeout(idleTimeout: nil) == .seconds(10))
    }
}
