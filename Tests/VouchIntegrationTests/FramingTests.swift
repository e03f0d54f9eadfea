import Foundation
import Testing
import VouchClient
import VouchProtocol

/// Bad frames at the byte level: what the daemon answers, and that only the
/// offending connection is closed.
@Suite struct FramingTests {
    /// A connection that works: ping answered.
    func expectWorks(_ socket: RawSocket, id: UInt32, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try socket.send(.ping, id: id)
        let r = try socket.readResponse()
        #expect(r.id == id, sourceLocation: sourceLocation)
        #expect(r.status == .ok, sourceLocation: sourceLocation)
    }

    @Test func oversizedFrameGetsFrameTooLargeAndClosesOnlyThatConnection() async throws {
        let daemon = try await TestDaemon()
        let bystander = try RawSocket(path: daemon.socketPath)
        try expectWorks(bystander, id: 1)
        let client = try await daemon.client()

        let offender = try RawSocket(path: daemon.socketPath)
        try expectWorks(offender, id: 1)
        // 64 KiB + 1: only the prefix and a few bytes are sent; the daemon must not wait for the rest.
        try offender.send([0x00, 0x01, 0x00, 0x01, 1, 2, 0, 0, 0, 9])
        let r = try offender.readResponse()
        #expect(r.status == .frameTooLarge)
        #expect(r.status.rawValue == 13)
        #expect(r.id == 0)
        #expect(r.message.contains("65537"))
        #expect(try offender.closesConnection())

        try expectWorks(bystander, id: 2)
        try await client.ping()
        try expectWorks(try RawSocket(path: daemon.socketPath), id: 3)
        await client.close()
    }

    @Test func hugeLengthPrefixIsRefusedToo() async throws {
        let daemon = try await TestDaemon()
        let socket = try RawSocket(path: daemon.socketPath)
        try socket.send([0xff, 0xff, 0xff, 0xff])
        let r = try socket.readResponse()
        #expect(r.status == .frameTooLarge)
        #expect(try socket.closesConnection())
        try expectWorks(try RawSocket(path: daemon.socketPath), id: 1)
    }

    @Test func aFrameOfExactlyTheCapIsServed() async throws {
        let daemon = try await TestDaemon()
        let socket = try RawSocket(path: daemon.socketPath)
        // hello: 6 header bytes + u16 length + name = 65536 bytes of payload.
        let name = String(repeating: "n", count: 65536 - 6 - 2)
        let frame = RequestMessage(id: 4, request: .hello(clientName: name)).encodeFrame()
        #expect(frame.count == 4 + 65536)
        try socket.send(frame)
        let r = try socket.readResponse()
        #expect(r.id == 4)
        #expect(r.status == .ok)
        try expectWorks(socket, id: 5)
    }

    @Test func zeroLengthFrameGetsBadRequestAndClosesOnlyThatConnection() async throws {
        let daemon = try await TestDaemon()
        let bystander = try RawSocket(path: daemon.socketPath)
        let offender = try RawSocket(path: daemon.socketPath)
        try expectWorks(offender, id: 1)
        // A ping after the empty frame is never answered: the stream has no trustworthy boundary.
        try offender.send([0, 0, 0, 0] + RequestMessage(id: 2, request: .ping).encodeFrame())
        let r = try offender.readResponse()
        #expect(r.status == .badRequest)
        #expect(r.status.rawValue == 8)
        #expect(r.id == 0)
        #expect(r.message == "frame of 0 bytes is shorter than a request header (6 bytes)")
        #expect(try offender.closesConnection())
        try expectWorks(bystander, id: 3)
    }

    /// Issue 11: a payload shorter than a header was answered and the connection
    /// kept, while a zero-length frame closed it; request id 0 was served like
    /// any other, so its answer could not be told from a connection-level error.
    /// Every answer with id 0 is now connection-level: version 1, opcode 0, then close.
    @Test func shortPayloadsAndRequestIDZeroAreConnectionLevelErrors() async throws {
        let daemon = try await TestDaemon()
        let cases: [([UInt8], String)] = [
            ([1, 0x02, 0], "frame of 3 bytes is shorter than a request header (6 bytes)"),
            ([1], "frame of 1 bytes is shorter than a request header (6 bytes)"),
            ([1, 0x02, 0, 0, 0, 0], "request id 0 is reserved for connection-level errors"),
            ([2, 0x7f, 0, 0, 0, 0], "request id 0 is reserved for connection-level errors"),
        ]
        for (payload, message) in cases {
            let socket = try RawSocket(path: daemon.socketPath)
            try socket.send(
                [0, 0, 0, UInt8(payload.count)] + payload + RequestMessage(id: 2, request: .ping).encodeFrame())
            let r = try socket.readResponse()
            #expect(r.id == 0, "\(payload)")
            #expect(r.opcode == 0, "\(payload)")
            #expect(r.status == .badRequest, "\(payload)")
            #expect(r.message == message)
            // The ping after it is never answered: the connection closes.
            #expect(try socket.readPayload() == nil, "\(payload)")
        }
        try expectWorks(try RawSocket(path: daemon.socketPath), id: 3)
    }

    @Test func headerAndBodyErrorsAreAnsweredAndTheConnectionStaysUsable() async throws {
        let daemon = try await TestDaemon()
        try await daemon.createUser("bob", password: "framing pass 1")
        let socket = try RawSocket(path: daemon.socketPath)

        // The documented example: protocol version 2, byte for byte.
        let version2: [UInt8] = [0, 0, 0, 6, 2, 2, 0, 0, 0, 5]
        try socket.send(version2)
        let unsupported = try #require(try socket.readPayload())
        let expectedReply = ResponseMessage.encodeFailure(
            id: 5, opcode: 2, status: .unsupportedVersion,
            message: "protocol version 2 is not supported (supported: 1-1)")
        #expect([0, 0, 0, UInt8(unsupported.count)] + unsupported == expectedReply)

        let cases: [([UInt8], UInt32, Status, String)] = [
            ([1, 0x7e, 0, 0, 0, 6], 6, .unknownOpcode, "unknown opcode 126"),
            ([1, 0x02, 0, 0, 0, 7, 0xaa], 7, .badRequest, "ping: 1 unexpected trailing bytes"),
            ([1, 0x01, 0, 0, 0, 8, 0, 2, 0xc3, 0x28], 8, .badRequest, "hello: field 'client_name' is not valid UTF-8"),
            (
                [1, 0x15, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 1, 0, 2], 9, .badRequest,
                "list_users: field 'descending' is not 0 or 1"
            ),
            (
                [1, 0x10, 0, 0, 0, 10, 0, 1, 0x78, 0, 0, 1, 0x78, 0x10], 10, .badRequest,
                "create_user: unknown flag bits"
            ),
            ([1, 0x14, 0, 0, 0, 11, 4, 0, 9], 11, .badRequest, "get_user: truncated field 'user.text'"),
            ([1, 0x11, 0, 0, 0, 12], 12, .badRequest, "login: truncated field 'username'"),
            // An opcode no version of the protocol defines.
            ([1, 0x7f, 0, 0, 0, 13], 13, .unknownOpcode, "unknown opcode 127"),
        ]
        for (payload, id, status, message) in cases {
            try socket.send([0, 0, 0, UInt8(payload.count)] + payload)
            let r = try socket.readResponse()
            #expect(r.id == id, "\(message)")
            #expect(r.status == status, "\(message): \(r.status)")
            #expect(r.message == message)
            if payload.count >= 6 { #expect(r.opcode == payload[1]) }
        }
        // Still usable, and nothing changed.
        try expectWorks(socket, id: 100)
        let client = try await daemon.client()
        #expect(try await client.users().total == 1)
        await client.close()
    }

    @Test func randomGarbageNeverTakesTheDaemonDown() async throws {
        let daemon = try await TestDaemon()
        var seed: UInt64 = 0x6A5B_4C3D
        func next() -> UInt8 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: seed >> 33)
        }
        for round in 0..<30 {
            let socket = try RawSocket(path: daemon.socketPath)
            var stream: [UInt8] = []
            for _ in 0..<20 {
                // Valid-sized frames of random bytes with a valid version half the time.
                // At least a header, and never the reserved request id 0 (both close the connection).
                var payload = (0..<(6 + Int(next() % 34))).map { _ in next() }
                if next() % 2 == 0 { payload[0] = 1 }
                payload[5] |= 1
                stream += [0, 0, 0, UInt8(payload.count)] + payload
            }
            try socket.send(stream)
            for _ in 0..<20 {
                let r = try socket.readResponse()
                #expect(r.status != .internalError, "round \(round): \(r.message)")
            }
            try expectWorks(socket, id: 0xFFFF_FFFF)
        }
        let client = try await daemon.client()
        try await client.ping()
        await client.close()
    }
}
