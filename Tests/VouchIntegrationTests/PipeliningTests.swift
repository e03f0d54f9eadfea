import Foundation
import Testing
import VouchClient
import VouchProtocol

/// Responses come back in the order requests finish, not the order they were
/// sent.  Every check compares the ORDER of arrival, never a duration.
@Suite struct PipeliningTests {
    /// The production argon2 cost, so a login really is slow.
    static let slowHashing = ["argon2_memory_kib = 19456", "argon2_iterations = 2", "argon2_parallelism = 1"]

    @Test func pingAfterASlowLoginOnTheSameConnectionIsAnsweredFirst() async throws {
        let daemon = try await TestDaemon(config: Self.slowHashing)
        try await daemon.createUser("bob", password: "pipelined pass 1")
        let socket = try RawSocket(path: daemon.socketPath)
        // One write holding both frames: the daemon reads them in one burst.
        try socket.send(
            RequestMessage(id: 1, request: loginRequest("bob", "pipelined pass 1")).encodeFrame()
                + RequestMessage(id: 2, request: .ping).encodeFrame())
        let first = try socket.readResponse()
        let second = try socket.readResponse()
        #expect(first.id == 2)
        #expect(first.opcode == Opcode.ping.rawValue)
        #expect(first.status == .ok)
        #expect(second.id == 1)
        #expect(second.opcode == Opcode.login.rawValue)
        #expect(second.status == .ok)
        guard case .login(let user, nil) = second.reply else {
            Issue.record("the login answer is not a login reply")
            return
        }
        #expect(user.username == "bob")
        daemon.expectLogFreeOf(["pipelined pass 1"])
    }

    @Test func manyPipelinedRequestsAreAllAnsweredOnceMatchedById() async throws {
        let daemon = try await TestDaemon()
        let bob = try await daemon.createUser("bob", password: "pipelined pass 1")
        let socket = try RawSocket(path: daemon.socketPath)
        var batch: [UInt8] = []
        var expected: [UInt32: (Opcode, Status)] = [:]
        for i in UInt32(1)...40 {
            let request: Request
            let status: Status
            switch i % 4 {
            case 0: (request, status) = (loginRequest("bob", "pipelined pass 1"), .ok)
            case 1: (request, status) = (loginRequest("bob", "wrong pipelined 2"), .invalidCredentials)
            case 2: (request, status) = (.getUser(.id(bob.id)), .ok)
            default: (request, status) = (.ping, .ok)
            }
            batch += RequestMessage(id: i * 1000, request: request).encodeFrame()
            expected[i * 1000] = (request.opcode, status)
        }
        try socket.send(batch)
        var seen: Set<UInt32> = []
        for _ in 0..<expected.count {
            let r = try socket.readResponse()
            #expect(!seen.contains(r.id), "answered twice: \(r.id)")
            seen.insert(r.id)
            let want = try #require(expected[r.id], "unexpected id \(r.id)")
            #expect(r.opcode == want.0.rawValue)
            #expect(r.status == want.1, "\(r.id): \(r.status) \(r.message)")
        }
        #expect(seen == Set(expected.keys))
        daemon.expectLogFreeOf(["pipelined pass 1", "wrong pipelined 2"])
    }

    @Test func aDuplicateIdInFlightIsABadRequest() async throws {
        let daemon = try await TestDaemon(config: Self.slowHashing)
        try await daemon.createUser("bob", password: "pipelined pass 1")
        let socket = try RawSocket(path: daemon.socketPath)
        let login = RequestMessage(id: 5, request: loginRequest("bob", "pipelined pass 1")).encodeFrame()
        try socket.send(login + login)
        let first = try socket.readResponse()
        #expect(first.id == 5)
        #expect(first.status == .badRequest)
        #expect(first.message == "duplicate request id 5")
        let second = try socket.readResponse()
        #expect(second.id == 5)
        #expect(second.status == .ok)
        // The id is free again once answered.
        try socket.send(.ping, id: 5)
        #expect(try socket.readResponse().status == .ok)
    }

    @Test func aSlowLoginDoesNotDelayAPingOnAnotherConnection() async throws {
        // Four logins at the production cost keep every hashing thread busy.
        let daemon = try await TestDaemon(config: Self.slowHashing)
        try await daemon.createUser("bob", password: "pipelined pass 1")
        let a = try RawSocket(path: daemon.socketPath)
        let b = try RawSocket(path: daemon.socketPath)
        var logins: [UInt8] = []
        for id in UInt32(1)...4 {
            logins += RequestMessage(id: id, request: loginRequest("bob", "pipelined pass 1")).encodeFrame()
        }
        let ping = RequestMessage(id: 99, request: .ping).encodeFrame()

        try a.send(logins)
        try b.send(ping)
        let pong = try b.readResponse()
        // B's answer is in; A's first answer has not arrived yet.
        let aAnsweredFirst = a.hasDataNow
        #expect(pong.id == 99)
        #expect(pong.status == .ok)
        #expect(!aAnsweredFirst, "a login on connection A was answered before the ping on connection B")

        var ids: Set<UInt32> = []
        for _ in 0..<4 {
            let r = try a.readResponse()
            #expect(r.status == .ok)
            ids.insert(r.id)
        }
        #expect(ids == [1, 2, 3, 4])
        daemon.expectLogFreeOf(["pipelined pass 1"])
    }
}
