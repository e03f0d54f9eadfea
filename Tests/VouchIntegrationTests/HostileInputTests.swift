import Foundation
import Testing
import VouchClient
import VouchProtocol
import VouchSecrets

/// Bad frames and bodies against the real daemon.  Each case gets its
/// documented status (and the connection stays usable) or a clean close; after
/// each, a ping on another connection still works, and at the end the users
/// are exactly as before.
@Suite struct HostileInputTests {
    static let victim = "victim"
    static let victimPassword = "correct horse 1"

    enum Outcome: CustomStringConvertible {
        /// One response with this status, echoing `id`; the connection stays open.
        case status(UInt16, id: UInt32)
        /// One response with this status and request id 0, then the daemon closes.
        case statusThenClose(UInt16)

        var description: String {
            switch self {
            case .status(let s, let id): return "status \(s) id \(id)"
            case .statusThenClose(let s): return "status \(s), then close"
            }
        }
    }

    struct Case: CustomStringConvertible {
        let name: String
        let bytes: [UInt8]
        let outcome: Outcome
        var description: String { name }
    }

    static let badRequest: UInt16 = 8
    static let id: UInt32 = 0x0102_0304

    /// A valid body per opcode, for truncation and trailing-byte cases (never sent whole
    /// when sending it whole would change something).
    static let bodies: [(String, UInt8, [UInt8])] = [
        ("hello", 0x01, Wire.str("client")),
        ("create_user", 0x10, Wire.createBody(Array("newbie".utf8), Array("pw pw pw pw".utf8))),
        ("login", 0x11, Wire.loginBody(Array("nobody".utf8), Array("pw".utf8))),
        ("change_password", 0x12, Wire.str("nobody") + Wire.str("a") + Wire.str("b")),
        ("set_password", 0x13, [3] + Wire.str("nobody") + Wire.str("pw")),
        ("get_user by name", 0x14, [3] + Wire.str("nobody")),
        ("get_user by id", 0x14, [1] + [UInt8](repeating: 0, count: 7) + [99]),
        ("get_user by uuid", 0x14, [2] + [UInt8](repeating: 7, count: 16)),
        ("list_users", 0x15, Wire.u32(20) + Wire.u32(1) + [0, 0]),
        ("update_user", 0x16, [3] + Wire.str("nobody") + [1, 1] + Wire.str("a@b.c") + [0, 0]),
        ("delete_user", 0x17, [4] + Wire.str("nobody")),
        ("account_status", 0x18, Wire.str("nobody")),
        ("unlock_user", 0x19, [3] + Wire.str("nobody")),
        ("verify_token", 0x20, Wire.str("vch_abc")),
        ("issue_token", 0x23, [3] + Wire.str("nobody") + Wire.str("label") + [UInt8](repeating: 0, count: 8)),
        ("list_events", 0x40, [0] + [UInt8](repeating: 0, count: 8) + Wire.u32(10)),
    ]

    static var cases: [Case] {
        var cases: [Case] = []
        func add(_ name: String, _ bytes: [UInt8], _ outcome: Outcome) {
            cases.append(Case(name: name, bytes: bytes, outcome: outcome))
        }
        func request(_ opcode: UInt8, _ body: [UInt8], version: UInt8 = 1) -> [UInt8] {
            Wire.request(version: version, opcode: opcode, id: id, body: body)
        }

        // Framing.
        add("zero-length frame", [0, 0, 0, 0], .statusThenClose(badRequest))
        add("length one over the cap", Wire.u32(65537), .statusThenClose(13))
        add("maximal length prefix", [0xff, 0xff, 0xff, 0xff], .statusThenClose(13))
        add("16 MiB length prefix with some payload", Wire.u32(16 << 20) + [1, 2, 0, 0, 0, 1], .statusThenClose(13))
        for n in 1...5 {
            add(
                "payload of \(n) bytes, shorter than a header", Wire.frame([UInt8](repeating: 1, count: n)),
                .statusThenClose(badRequest))
        }
        for version: UInt8 in [0, 2, 255] {
            add("protocol version \(version)", request(0x02, [], version: version), .status(9, id: id))
        }
        for opcode: UInt8 in [0x00, 0x04, 0x0f, 0x1a, 0x1f, 0x5f, 0x7f, 0xff] {
            add("unknown opcode \(opcode)", request(opcode, []), .status(10, id: id))
        }
        add("ping with a body", request(0x02, [0]), .status(badRequest, id: id))

        // Every field truncated, and a byte too many, for every operation.
        for (name, opcode, body) in bodies {
            for cut in 0..<body.count {
                add(
                    "\(name) truncated to \(cut) of \(body.count) bytes", request(opcode, Array(body[0..<cut])),
                    .status(badRequest, id: id))
            }
            add("\(name) with a trailing byte", request(opcode, body + [0]), .status(badRequest, id: id))
        }

        // Lengths larger than the frame, bad enumerations and flag bits.
        add(
            "username length 65535, 3 bytes present", request(0x11, Wire.u16(0xffff) + Array("bob".utf8)),
            .status(badRequest, id: id))
        add(
            "password length beyond the frame", request(0x11, Wire.str("bob") + Wire.u16(1000) + [1, 2, 3]),
            .status(badRequest, id: id))
        for kind: UInt8 in [0, 5, 255] {
            add("user_sel kind \(kind)", request(0x14, [kind] + Wire.str("bob")), .status(badRequest, id: id))
        }
        add("list_users order 4", request(0x15, Wire.u32(20) + Wire.u32(1) + [4, 0]), .status(badRequest, id: id))
        add("list_users bool 2", request(0x15, Wire.u32(20) + Wire.u32(1) + [0, 2]), .status(badRequest, id: id))
        add(
            "create_user unknown flag bit",
            request(0x10, Wire.createBody(Array("x1".utf8), Array("pw pw pw pw".utf8), flags: 0x10)),
            .status(badRequest, id: id))
        add(
            "login unknown option bit", request(0x11, Wire.loginBody(Array("bob".utf8), Array("pw".utf8), options: 2)),
            .status(badRequest, id: id))
        add("update_user set_email 2", request(0x16, [3] + Wire.str("bob") + [2, 0, 0]), .status(badRequest, id: id))
        add("list_users limit 0", request(0x15, Wire.u32(0) + Wire.u32(1) + [0, 0]), .status(20, id: id))
        add("list_users page 0", request(0x15, Wire.u32(10) + Wire.u32(0) + [0, 0]), .status(20, id: id))

        // Invalid UTF-8 and embedded NUL.
        for (label, bad) in [
            ("0xff", [0xff] as [UInt8]), ("overlong slash", [0xc0, 0xaf]), ("lone surrogate", [0xed, 0xa0, 0x80]),
            ("truncated sequence", [0x62, 0xe2, 0x82]),
        ] {
            add(
                "login username invalid UTF-8 (\(label))", request(0x11, Wire.loginBody(bad, Array("pw".utf8))),
                .status(badRequest, id: id))
            add(
                "create_user username invalid UTF-8 (\(label))",
                request(0x10, Wire.createBody(bad, Array("pw pw pw pw".utf8))), .status(badRequest, id: id))
            add("account_status invalid UTF-8 (\(label))", request(0x18, Wire.str(bad)), .status(badRequest, id: id))
            add(
                "login password invalid UTF-8 (\(label))", request(0x11, Wire.loginBody(Array(victim.utf8), bad)),
                .status(badRequest, id: id))
        }
        let nul = Array("vic\0tim".utf8)
        add(
            "create_user username with NUL", request(0x10, Wire.createBody(nul, Array("pw pw pw pw".utf8))),
            .status(20, id: id))
        add(
            "login username with NUL", request(0x11, Wire.loginBody(nul, Array(victimPassword.utf8))),
            .status(1, id: id))
        add(
            "login password with NUL",
            request(0x11, Wire.loginBody(Array(victim.utf8), Array("correct\0horse 1".utf8))), .status(1, id: id))
        add("account_status username with NUL", request(0x18, Wire.str(nul)), .status(3, id: id))

        // Zero and maximal lengths.
        add(
            "create_user empty username", request(0x10, Wire.createBody([], Array("pw pw pw pw".utf8))),
            .status(20, id: id))
        add("create_user empty password", request(0x10, Wire.createBody(Array("emptypw".utf8), [])), .status(6, id: id))
        add("login empty username and password", request(0x11, Wire.loginBody([], [])), .status(1, id: id))
        add("login victim, empty password", request(0x11, Wire.loginBody(Array(victim.utf8), [])), .status(1, id: id))
        let long101 = [UInt8](repeating: 0x61, count: 101)
        add(
            "create_user 101-character username", request(0x10, Wire.createBody(long101, Array("pw pw pw pw".utf8))),
            .status(20, id: id))
        add(
            "login 101-character username", request(0x11, Wire.loginBody(long101, Array("pw".utf8))), .status(1, id: id)
        )
        add(
            "login 65000-byte username",
            request(0x11, Wire.loginBody([UInt8](repeating: 0x61, count: 65000), Array("pw".utf8))), .status(1, id: id))
        let pw129 = [UInt8](repeating: 0x70, count: 129)
        add(
            "create_user 129-character password", request(0x10, Wire.createBody(Array("pw129".utf8), pw129)),
            .status(6, id: id))
        add(
            "login victim, 129-character password", request(0x11, Wire.loginBody(Array(victim.utf8), pw129)),
            .status(1, id: id))
        let pw128mb = [UInt8](repeating: 0xc3, count: 1) + [UInt8](repeating: 0xa9, count: 1)  // "é"
        add(
            "login victim, 128 two-byte characters",
            request(0x11, Wire.loginBody(Array(victim.utf8), Array(repeating: pw128mb, count: 128).flatMap { $0 })),
            .status(1, id: id))
        let pw60k = [UInt8](repeating: 0x71, count: 60_000)
        add(
            "login victim, 60 KB password", request(0x11, Wire.loginBody(Array(victim.utf8), pw60k)), .status(1, id: id)
        )
        add(
            "create_user 60 KB password", request(0x10, Wire.createBody(Array("bigpw".utf8), pw60k)), .status(6, id: id)
        )
        add(
            "change_password victim, 60 KB new password",
            request(0x12, Wire.str(victim) + Wire.str(victimPassword) + Wire.str(pw60k)), .status(6, id: id))
        add(
            "set_password victim, 60 KB password", request(0x13, [3] + Wire.str(victim) + Wire.str(pw60k)),
            .status(6, id: id))
        add(
            "get_user 65000-byte name", request(0x14, [4] + Wire.str([UInt8](repeating: 0x61, count: 65000))),
            .status(3, id: id))
        add(
            "account_status 65000-byte name", request(0x18, Wire.str([UInt8](repeating: 0x61, count: 65000))),
            .status(3, id: id))
        return cases
    }

    static func daemon() async throws -> TestDaemon {
        try await TestDaemon(config: ["login_failures_per_minute = 0", "lockout_deny = 0"])
    }

    struct Snapshot: Equatable {
        var users: [String]
    }

    static func snapshot(_ client: VouchClient) async throws -> Snapshot {
        let page = try await client.users(limit: 1000, page: 1, order: .id)
        return Snapshot(
            users: page.users.map { u in
                "\(u.id) \(u.username) \(u.email ?? "-") \(u.flags.rawValue) \(u.updatedAt) \(u.lockedUntil ?? 0)"
            } + ["total \(page.total)"])
    }

    static func setUp() async throws -> (TestDaemon, VouchClient, Snapshot) {
        let daemon = try await daemon()
        let client = try await daemon.client()
        _ = try await client.createUser(username: victim, password: .text(victimPassword))
        return (daemon, client, try await snapshot(client))
    }

    @Test func everyCaseGetsItsStatusOrACleanClose() async throws {
        let (daemon, client, before) = try await Self.setUp()
        defer { Task { await client.close() } }
        let cases = Self.cases
        #expect(cases.count > 200)
        for c in cases {
            let conn = try RawConnection(path: daemon.socketPath)
            conn.send(c.bytes)
            let response = conn.readResponse(timeout: 20)
            switch c.outcome {
            case .status(let status, let id):
                #expect(response?.status.rawValue == status, "\(c.name): got \(String(describing: response?.status))")
                #expect(response?.id == id, "\(c.name)")
                // The connection stays usable.
                conn.send(Wire.request(opcode: 0x02, id: 77))
                let pong = conn.readResponse()
                #expect(pong?.status == .ok && pong?.id == 77, "\(c.name): connection not usable afterwards")
            case .statusThenClose(let status):
                #expect(response?.status.rawValue == status, "\(c.name): got \(String(describing: response?.status))")
                #expect(response?.id == 0, "\(c.name)")
                #expect(conn.closesWithin(5), "\(c.name): connection not closed")
            }
            conn.close()
            try await client.ping()
        }
        #expect(try await Self.snapshot(client) == before)
        #expect(daemon.process?.isRunning == true)
    }

    @Test func oneMegabytePasswordGetsFrameTooLargeAndAClose() async throws {
        let (daemon, client, before) = try await Self.setUp()
        defer { Task { await client.close() } }
        // A `secret` cannot even say 1 MB (its length is a u16): the frame is what carries it.
        let huge = Wire.u16(0xffff) + [UInt8](repeating: 0x41, count: 1 << 20)
        for opcode: UInt8 in [0x11, 0x10] {
            let body = Wire.str(opcode == 0x11 ? Self.victim : "huge") + huge + [0, 0, 0, 0, 0, 0, 0]
            let conn = try RawConnection(path: daemon.socketPath)
            _ = conn.sendUntilBlocked(Wire.request(opcode: opcode, id: 5, body: body), seconds: 3)
            let response = conn.readResponse()
            #expect(response?.status == .frameTooLarge)
            #expect(response?.id == 0)
            #expect(conn.closesWithin(5))
            try await client.ping()
        }
        #expect(try await Self.snapshot(client) == before)
    }

    @Test func aClientThatStreamsAfterABadPrefixAndNeverReadsIsClosed() async throws {
        let (daemon, client, _) = try await Self.setUp()
        defer { Task { await client.close() } }
        let conn = try RawConnection(path: daemon.socketPath)
        let garbage = [UInt8](repeating: 0xff, count: 1 << 20)
        let start = Date()
        var accepted = 0
        while Date().timeIntervalSince(start) < 8 {
            let n = conn.sendUntilBlocked(garbage, seconds: 0.2)
            accepted += n
            if n == 0, case .closed = conn.read(1 << 20, timeout: 0.01) { break }
        }
        #expect(Date().timeIntervalSince(start) < 7, "not closed; the daemon took \(accepted) bytes")
        #expect(accepted < 16 << 20, "the daemon kept reading: \(accepted) bytes")
        try await client.ping()
    }

    @Test func duplicateRequestIdsInFlightAreRefused() async throws {
        let (daemon, client, before) = try await Self.setUp()
        defer { Task { await client.close() } }
        let conn = try RawConnection(path: daemon.socketPath)
        let login = Wire.request(
            opcode: 0x11, id: 9, body: Wire.loginBody(Array(Self.victim.utf8), Array("wrong".utf8)))
        conn.send(login + login)
        let statuses = [conn.readResponse(), conn.readResponse()].map { $0?.status.rawValue }
        #expect(statuses.compactMap { $0 }.sorted() == [1, 8])
        // Once answered, the id may be used again.
        conn.send(login)
        #expect(conn.readResponse()?.status == .invalidCredentials)
        #expect(try await Self.snapshot(client) == before)
    }

    @Test func aFrameSplitIntoSingleBytesIsServed() async throws {
        let (daemon, client, _) = try await Self.setUp()
        defer { Task { await client.close() } }
        let conn = try RawConnection(path: daemon.socketPath)
        let login = Wire.request(
            opcode: 0x11, id: 11, body: Wire.loginBody(Array(Self.victim.utf8), Array(Self.victimPassword.utf8)))
        for byte in login + Wire.request(opcode: 0x02, id: 12) {
            conn.send([byte])
            try await Task.sleep(for: .milliseconds(2))
        }
        var answers: [UInt32: Status] = [:]
        for _ in 0..<2 {
            if let r = conn.readResponse(timeout: 60) { answers[r.id] = r.status }
        }
        #expect(answers == [11: .ok, 12: .ok])
    }

    @Test func clientsThatDisconnectMidRequestDoNotHurt() async throws {
        let (daemon, client, before) = try await Self.setUp()
        defer { Task { await client.close() } }
        let login = Wire.request(
            opcode: 0x11, id: 1, body: Wire.loginBody(Array(Self.victim.utf8), Array("wrong".utf8)))
        for cut in [1, 3, 4, 5, 10, login.count - 1, login.count] {
            let conn = try RawConnection(path: daemon.socketPath)
            conn.send(Array(login[0..<cut]))
            conn.close()
        }
        // A slow request whose client is gone by the time it is answered.
        for _ in 0..<20 {
            let conn = try RawConnection(path: daemon.socketPath)
            conn.send(login + login.map { $0 } + Wire.request(opcode: 0x02, id: 2))
            conn.close()
        }
        try await Task.sleep(for: .milliseconds(300))
        try await client.ping()
        let (user, _) = try await client.login(username: Self.victim, password: .text(Self.victimPassword))
        #expect(user.username == Self.victim)
        #expect(daemon.process?.isRunning == true)
        #expect(try await Self.snapshot(client).users.count == before.users.count)
    }

    @Test func aClientThatNeverReadsIsBoundedAndOthersAreServed() async throws {
        let (daemon, client, before) = try await Self.setUp()
        defer { Task { await client.close() } }
        let pid = try #require(daemon.process?.processIdentifier)
        try await Task.sleep(for: .milliseconds(200))
        let rssBefore = try #require(residentKiB(pid: pid))

        // 64 MB of pings whose answers are never read.
        let pings = (0..<4096).flatMap { Wire.request(opcode: 0x02, id: UInt32($0)) }
        let chunk = Array(repeating: pings, count: 16).flatMap { $0 }  // 640 KiB
        let greedy = try RawConnection(path: daemon.socketPath)
        var accepted = 0
        // Keep pushing until the daemon has taken nothing for 2 seconds (or took it all).
        var stalledSince: Date?
        var offset = 0
        while accepted < 64 << 20 {
            let n = greedy.sendUntilBlocked(Array(chunk[offset...]), seconds: 0.2)
            offset = (offset + n) % chunk.count
            accepted += n
            if n > 0 {
                stalledSince = nil
            } else if let since = stalledSince {
                if Date().timeIntervalSince(since) > 2 { break }
            } else {
                stalledSince = Date()
            }
        }
        // The daemon stopped reading: far less than the 64 MB was taken.
        #expect(accepted < 16 << 20, "accepted \(accepted) bytes")

        // Others are served meanwhile.
        let start = Date()
        try await client.ping()
        let other = try await daemon.client()
        try await other.ping()
        await other.close()
        #expect(Date().timeIntervalSince(start) < 5)

        let rssAfter = try #require(residentKiB(pid: pid))
        print("never-reading client: daemon took \(accepted) bytes; VmRSS \(rssBefore) -> \(rssAfter) KiB")
        #expect(rssAfter - rssBefore < 48 * 1024, "RSS grew from \(rssBefore) to \(rssAfter) KiB")
        greedy.close()
        try await client.ping()
        #expect(try await Self.snapshot(client) == before)
    }
}
