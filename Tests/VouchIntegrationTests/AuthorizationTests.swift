import Foundation
import Testing
import VouchClient
import VouchProtocol

/// A peer that is not an admin (not root, not the daemon's uid, no admin
/// group) may only use the open operations.  Running a client as another uid
/// needs root, as in CI.
@Suite struct AuthorizationTests {
    static let nobody: UInt32 = 65534

    @Test(.enabled(if: runningAsRoot, "needs root to run vouchctl as uid 65534 (setpriv); CI runs as root"))
    func nonAdminPeerIsRefusedAdminOperationsButMayLogIn() async throws {
        let daemon = try await TestDaemon()
        let bob = try await daemon.createUser("bob", password: "authz first pass 1")

        for args in [
            ["user", "create", "--username", "mallory", "--password-stdin"], ["user", "list"], ["user", "show", "bob"],
            ["user", "delete", "bob", "--yes"], ["user", "change-password", "bob", "--password-stdin"],
            ["user", "change-permissions", "bob", "--admin", "true"], ["user", "update", "bob", "--no-email"],
            ["status"],
        ] {
            let r = try daemon.vouchctl(args, stdin: "authz mallory pass 2\n", asUID: Self.nobody)
            #expect(r.status == 1, "\(args): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("Permission denied"), "\(args): \(r.stderr)")
        }

        let login = try daemon.vouchctl(
            ["login", "bob", "--password-stdin"], stdin: "authz first pass 1\n", asUID: Self.nobody)
        #expect(login.status == 0, "\(login.stderr)")
        #expect(login.out == "\(bob.id)")
        let wrong = try daemon.vouchctl(
            ["login", "bob", "--password-stdin"], stdin: "authz wrong pass 3\n", asUID: Self.nobody)
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("Invalid username or password"))

        // Nothing was changed by the refused commands.
        let client = try await daemon.client()
        let users = try await client.users()
        #expect(users.total == 1)
        #expect(try await client.user(.id(bob.id)).flags == .active)
        await client.close()

        // The refusals are logged with the peer's uid.
        let log = daemon.logText()
        #expect(log.contains("permission denied"))
        #expect(
            log.contains("peer_uid=\(Self.nobody)") || log.contains("peer_uid=\"\(Self.nobody)\""),
            "\(log.suffix(2000))")
        daemon.expectLogFreeOf(["authz first pass 1", "authz mallory pass 2", "authz wrong pass 3"])
    }

    @Test(.enabled(if: runningAsRoot, "needs root to connect as uid 65534 (setpriv); CI runs as root"))
    func nonAdminPeerMayPingHelloAndChangeItsOwnPassword() async throws {
        let daemon = try await TestDaemon()
        try await daemon.createUser("bob", password: "authz first pass 1")
        // A raw client in python3 running as uid 65534: one frame per line of hex in, one response payload out.
        var frames = [
            RequestMessage(id: 1, request: .ping).encodeFrame(),
            RequestMessage(id: 2, request: .hello(clientName: "nobody")).encodeFrame(),
            RequestMessage(id: 3, request: .status).encodeFrame(),
            RequestMessage(id: 4, request: .getUser(.username("bob"))).encodeFrame(),
            RequestMessage(id: 5, request: .listUsers(limit: 10, page: 1, order: .id, descending: false)).encodeFrame(),
            RequestMessage(
                id: 6,
                request: .changePassword(
                    username: "bob", old: .text("authz first pass 1"), new: .text("authz fourth pass 4"))
            ).encodeFrame(),
            RequestMessage(id: 7, request: .setPassword(user: .username("bob"), password: .text("authz evil pass 5")))
                .encodeFrame(),
            RequestMessage(id: 8, request: .deleteUser(.username("bob"))).encodeFrame(),
        ]
        frames.append(RequestMessage(id: 9, request: loginRequest("bob", "authz fourth pass 4")).encodeFrame())
        let responses = try Self.exchangeAsNobody(frames, socket: daemon.socketPath)
        try #require(responses.count == 9)
        let statuses = Dictionary(uniqueKeysWithValues: responses.map { ($0.id, $0.status) })
        #expect(statuses[1] == .ok)
        #expect(statuses[2] == .ok)
        for id in [UInt32(3), 4, 5, 7, 8] {
            #expect(statuses[id] == .permissionDenied, "request \(id)")
            #expect(responses.first { $0.id == id }?.message.contains("needs an admin peer") == true)
        }
        #expect(statuses[6] == .ok)
        #expect(statuses[9] == .ok)

        let client = try await daemon.client()
        _ = try await client.login(username: "bob", password: .text("authz fourth pass 4"))
        await client.close()
        daemon.expectLogFreeOf(["authz first pass 1", "authz fourth pass 4", "authz evil pass 5"])
    }

    /// Issue 11: a non-admin's malformed admin request was decoded before
    /// permission was checked, so it got `bad request` (8) naming the field:
    /// a map of the admin formats.  The opcode is refused from the header.
    @Test(.enabled(if: runningAsRoot, "needs root to connect as uid 65534 (setpriv); CI runs as root"))
    func nonAdminMalformedAdminRequestIsDeniedNotDecoded() async throws {
        let daemon = try await TestDaemon()
        try await daemon.createUser("bob", password: "authz first pass 1")
        let frames: [[UInt8]] = [
            Wire.request(opcode: 0x13, id: 1, body: [9, 9]),  // set_password, malformed
            Wire.request(opcode: 0x10, id: 2, body: []),  // create_user, empty body
            Wire.request(opcode: 0x56, id: 3, body: [1, 2, 3, 4, 5, 6, 7]),  // import_commit, trailing bytes
            Wire.request(opcode: 0x11, id: 4, body: [9]),  // login (open): still a bad request
        ]
        let responses = try Self.exchangeAsNobody(frames, socket: daemon.socketPath)
        try #require(responses.count == 4)
        for response in responses.prefix(3) {
            #expect(response.status == .permissionDenied, "request \(response.id): \(response.message)")
            #expect(response.message.contains("needs an admin peer"), "\(response.message)")
        }
        #expect(responses[3].status == .badRequest)
        #expect(daemon.logText().contains("permission denied"))
    }

    /// Sends `frames` from a raw client running as uid 65534 (python3 under
    /// setpriv), one at a time, and returns the decoded responses.
    static func exchangeAsNobody(_ frames: [[UInt8]], socket: String) throws -> [ResponseMessage] {
        let hex = frames.map { $0.map { String(format: "%02x", $0) }.joined() }.joined(separator: "\n")
        let script = """
            import socket, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sys.argv[1])
            def recv_exact(n):
                b = b""
                while len(b) < n:
                    c = s.recv(n - len(b))
                    if not c: raise SystemExit("closed")
                    b += c
                return b
            for line in sys.stdin.read().split():
                s.sendall(bytes.fromhex(line))
                n = int.from_bytes(recv_exact(4), "big")
                print(recv_exact(n).hex())
            """
        let r = try runProcess(
            "/usr/bin/setpriv",
            [
                "--reuid=\(Self.nobody)", "--regid=\(Self.nobody)", "--clear-groups", "/usr/bin/python3", "-c", script,
                socket,
            ],
            stdin: hex)
        #expect(r.status == 0, "\(r.stderr)")
        return try r.out.split(separator: "\n").map { line in
            let bytes = stride(from: 0, to: line.count, by: 2).map { i -> UInt8 in
                let start = line.index(line.startIndex, offsetBy: i)
                return UInt8(line[start..<line.index(start, offsetBy: 2)], radix: 16)!
            }
            return try bytes.withUnsafeBytes { try ResponseMessage.decode(payload: $0) }
        }
    }

    @Test func rootPeerIsAdmin() async throws {
        // The tests' own uid is the daemon's uid: an admin peer either way.
        let daemon = try await TestDaemon()
        let client = try await daemon.client()
        _ = try await client.status()
        _ = try await client.users()
        await client.close()
    }

    /// A group from /etc/group matching `filter`, with its name, gid and members.
    static func group(where filter: (String, UInt32, [String]) -> Bool) -> (
        name: String, gid: UInt32, members: [String]
    )? {
        guard let text = try? String(contentsOfFile: "/etc/group", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let f = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 4, let gid = UInt32(f[2]) else { continue }
            let members = f[3].split(separator: ",").map(String.init)
            if filter(f[0], gid, members) { return (f[0], gid, members) }
        }
        return nil
    }

    /// Runs `vouchctl status` as `uid` with exactly the supplementary `groups`.
    static func status(_ daemon: TestDaemon, uid: UInt32, gid: UInt32, groups: [UInt32]) throws -> ProcessResult {
        let groupArg = groups.isEmpty ? "--clear-groups" : "--groups=\(groups.map(String.init).joined(separator: ","))"
        return try runProcess(
            "/usr/bin/setpriv",
            ["--reuid=\(uid)", "--regid=\(gid)", groupArg, Products.vouchctl, "--socket", daemon.socketPath, "status"])
    }

    /// Issue 12 item 10: the admin group is the peer's own supplementary
    /// groups (SO_PEERGROUPS), as `SupplementaryGroups=` in a unit gives them.
    @Test(.enabled(if: runningAsRoot, "needs root to run vouchctl with other groups (setpriv)"))
    func aSupplementaryAdminGroupMakesThePeerAdmin() async throws {
        let admin = try #require(Self.group { _, gid, members in members.isEmpty && gid != 0 && gid != Self.nobody })
        let daemon = try await TestDaemon(config: ["admin_group = \(admin.name)"])
        let without = try Self.status(daemon, uid: Self.nobody, gid: Self.nobody, groups: [])
        #expect(without.status == 1 && without.stderr.contains("Permission denied"), "\(without.stderr)")
        let with = try Self.status(daemon, uid: Self.nobody, gid: Self.nobody, groups: [admin.gid])
        #expect(with.status == 0, "admin_group \(admin.name) (\(admin.gid)): \(with.stderr)")
    }

    /// ... and a process that dropped its groups is not an admin, whatever
    /// /etc/group lists (needs a group with a member; skipped otherwise).
    @Test(.enabled(if: runningAsRoot, "needs root to run vouchctl as another user (setpriv)"))
    func aPeerThatDroppedTheAdminGroupIsNotAdmin() async throws {
        func uid(of name: String) -> (uid: UInt32, gid: UInt32)? {
            guard let pw = getpwnam(name) else { return nil }
            return (pw.pointee.pw_uid, pw.pointee.pw_gid)
        }
        guard
            let admin = Self.group(where: { _, gid, members in
                members.contains { uid(of: $0).map { $0.uid != 0 && $0.gid != gid } ?? false }
            }),
            let member = admin.members.compactMap(uid(of:)).first(where: { $0.uid != 0 && $0.gid != admin.gid })
        else {
            print("skipped: no group in /etc/group with a non-root member")
            return
        }
        let daemon = try await TestDaemon(config: ["admin_group = \(admin.name)"])
        let dropped = try Self.status(daemon, uid: member.uid, gid: member.gid, groups: [])
        #expect(dropped.status == 1 && dropped.stderr.contains("Permission denied"), "\(dropped.stderr)")
        let kept = try Self.status(daemon, uid: member.uid, gid: member.gid, groups: [admin.gid])
        #expect(kept.status == 0, "\(kept.stderr)")
    }
}
