import Foundation
import Testing
import VouchClient
import VouchProtocol
import VouchSecrets

/// Linux logins through the real daemon: the opcodes 0x60-0x64, status 22,
/// and io.systemd.UserDatabase on a socket of the test's own directory.
/// (NSS, userdbctl, PAM and sshd: Tests/logins/run_logins_tests.sh.)
@Suite struct LinuxLoginTests {
    static func daemon() async throws -> TestDaemon {
        let daemon = try await TestDaemon(start: false)
        try daemon.writeConfig(["userdb = yes", "userdb_socket = \(daemon.directory)/userdb.sock"])
        try await daemon.start()
        return daemon
    }

    /// Sends each Varlink message and returns every reply received until the
    /// last one without `continues` (or the server closes: "EOF").
    /// With `pause`, reads nothing for that many seconds after sending (a slow reader).
    static func varlink(_ daemon: TestDaemon, _ messages: [String], pause: Double = 0) throws -> [String] {
        let script = """
            import socket, sys, json, time
            s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
            for m in sys.argv[2:]:
                s.sendall(m.encode() + b"\\0")
            time.sleep(\(pause))
            want, buf, out = len(sys.argv) - 2, b"", []
            while want > 0:
                c = s.recv(65536)
                if not c: out.append("EOF"); break
                buf += c
                while b"\\0" in buf:
                    m, buf = buf.split(b"\\0", 1)
                    out.append(m.decode())
                    if not json.loads(m).get("continues"): want -= 1
            print("\\n".join(out))
            """
        let r = try runProcess("/usr/bin/python3", ["-c", script, daemon.directory + "/userdb.sock"] + messages)
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout.split(separator: "\n").map(String.init)
    }

    static func call(_ method: String, _ parameters: String, more: Bool = false) -> String {
        #"{"method":"io.systemd.UserDatabase.\#(method)","parameters":\#(parameters)\#(more ? #","more":true"# : "")}"#
    }

    static let service = #""service":"io.vouch.UserDatabase""#

    static let hasMachineID = FileManager.default.contents(atPath: "/etc/machine-id").map { $0.count >= 32 } ?? false

    @Test func anExpiredPasswordAnswersStatus22UntilChanged() async throws {
        let daemon = try await Self.daemon()
        let client = try await daemon.client()
        let alice = try await client.createUser(username: "alice", password: .text("correct horse 1"))
        let record = try await client.setLinuxAccount(.id(alice.id), LinuxAccountChange(login: true))
        #expect((70000...99999).contains(record.uid))
        #expect(record.passwordState == .current)
        let expired = try await client.setPasswordAging(.username("alice"), expire: true)
        #expect(expired.mustChangePassword && expired.passwordState == .mustChange)
        #expect(
            await refusedStatus { () async throws(VouchClientError) in
                _ = try await client.login(username: "alice", password: .text("correct horse 1"), wantToken: true)
            } == .passwordExpired)
        #expect(
            await refusedStatus { () async throws(VouchClientError) in
                _ = try await client.accountStatus(username: "alice")
            } == .passwordExpired)
        // A wrong password stays "invalid credentials": status 22 says nothing without the password.
        #expect(
            await refusedStatus { () async throws(VouchClientError) in
                _ = try await client.login(username: "alice", password: .text("wrong horse 1"))
            } == .invalidCredentials)
        // The refused login is in the audit trail, with its reason.
        let events = try daemon.vouchctl(["events", "--user", "alice", "--json"])
        #expect(
            events.stdout.contains("failed_login") && events.stdout.contains("password expired"), "\(events.stdout)")
        try await client.changePassword(username: "alice", old: .text("correct horse 1"), new: .text("new horse 22"))
        _ = try await client.login(username: "alice", password: .text("new horse 22"))
        #expect(try await client.accountStatus(username: "alice") == .active)
        let after = try await client.linuxAccount(.username("alice"))
        #expect(!after.mustChangePassword && after.passwordChangedAt != nil)
    }

    /// The userdb socket, like the main one, is never taken over by a second
    /// vouchd (issue 11's defect 1): it refuses, and the first keeps answering.
    @Test func aSecondDaemonDoesNotTakeOverTheUserdbSocket() async throws {
        let daemon = try await Self.daemon()
        let userdb = daemon.directory + "/userdb.sock"
        var before = stat()
        #expect(lstat(userdb, &before) == 0)
        let second = try runProcess(
            Products.vouchd,
            [
                "--config", daemon.configPath, "--socket", daemon.directory + "/second.sock", "--database",
                daemon.directory + "/second.db", "--log-to", "stderr",
            ], timeout: 20)
        #expect(second.status != 0, "\(second.stderr)")
        #expect(second.stderr.contains("another daemon is answering on \(userdb)"), "\(second.stderr)")
        var after = stat()
        #expect(lstat(userdb, &after) == 0)
        #expect(after.st_ino == before.st_ino)
        let lookup =
            #"{"method":"io.systemd.UserDatabase.GetUserRecord","#
            + #""parameters":{"service":"io.vouch.UserDatabase"}}"#
        let replies = try Self.varlink(daemon, [lookup])
        #expect(replies.count == 1 && replies[0] != "EOF", "\(replies)")
    }

    @Test func userdbServesLoginUsersOnly() async throws {
        let daemon = try await Self.daemon()
        let client = try await daemon.client()
        let alice = try await client.createUser(username: "alice", password: .text("correct horse 1"))
        _ = try await client.createUser(username: "webbob", password: .text("correct horse 1"))
        let uid = try await client.setLinuxAccount(.id(alice.id), LinuxAccountChange(login: true, realName: "Alice L"))
            .uid
        let replies = try Self.varlink(
            daemon,
            [
                Self.call("GetUserRecord", #"{"userName":"alice",\#(Self.service)}"#),
                Self.call("GetUserRecord", #"{"uid":\#(uid),\#(Self.service)}"#),
                Self.call("GetUserRecord", #"{"userName":"webbob",\#(Self.service)}"#),
                Self.call("GetUserRecord", #"{"userName":"alice","uid":1,\#(Self.service)}"#),
                Self.call("GetUserRecord", #"{"userName":"alice","service":"io.other"}"#),
                Self.call("GetUserRecord", #"{\#(Self.service)}"#),
                Self.call("GetUserRecord", #"{\#(Self.service)}"#, more: true),
                Self.call("GetGroupRecord", #"{"gid":\#(uid),\#(Self.service)}"#),
                Self.call("GetMemberships", #"{"userName":"alice",\#(Self.service)}"#, more: true),
                #"{"method":"io.systemd.UserDatabase.Nope","parameters":{}}"#,
            ])
        try #require(replies.count == 10, "\(replies)")
        let expectsMachineID = FileManager.default.contents(atPath: "/etc/machine-id").map { $0.count >= 32 } ?? false
        if expectsMachineID {
            for i in [0, 1, 6] {
                #expect(replies[i].contains(#""userName":"alice""#) && replies[i].contains(#""uid":\#(uid)"#))
                #expect(
                    replies[i].contains(#""realName":"Alice L""#)
                        && replies[i].contains(#""service":"io.vouch.UserDatabase""#))
            }
            #expect(replies[7].contains(#""groupName":"alice""#) && replies[7].contains(#""gid":\#(uid)"#))
        } else {
            #expect(replies[0].contains("ServiceNotAvailable"))
        }
        #expect(replies[2].contains("io.systemd.UserDatabase.NoRecordFound"))
        #expect(replies[3].contains("io.systemd.UserDatabase.ConflictingRecordFound"))
        #expect(replies[4].contains("io.systemd.UserDatabase.BadService"))
        #expect(replies[5].contains("org.varlink.service.ExpectedMore"))
        #expect(replies[8].contains("io.systemd.UserDatabase.NoRecordFound"))
        #expect(replies[9].contains("org.varlink.service.MethodNotFound"))
        // Turned off: gone at once.
        _ = try await client.setLinuxAccount(.id(alice.id), LinuxAccountChange(login: false))
        let gone = try Self.varlink(daemon, [Self.call("GetUserRecord", #"{"userName":"alice",\#(Self.service)}"#)])
        #expect(gone.first?.contains("NoRecordFound") == true, "\(gone)")
    }

    /// Calls pipelined behind an enumeration larger than the socket takes,
    /// read by a slow client, are all answered, in order (one used to be left
    /// behind, unanswered, after the first answered at once).
    @Test(.enabled(if: Self.hasMachineID, "records are served only with a machine id"))
    func callsBehindALongEnumerationAreAnsweredInOrder() async throws {
        let daemon = try await Self.daemon()
        let client = try await daemon.client()
        // Root gets the keys (the privileged section): 4 users × 7 keys × 16 KB, more than
        // the socket buffer and the channel's high-water mark together; few writes.
        let blob = String(repeating: "QUFB", count: 3990)
        for i in 0..<4 {
            let user = try await client.createUser(username: "login\(i)", password: .text("correct horse 1"))
            _ = try await client.setLinuxAccount(.id(user.id), LinuxAccountChange(login: true))
            for k in 0..<7 {
                _ = try await client.addSSHKey(.id(user.id), key: "ssh-ed25519 \(blob)\(i)x\(k) key\(k)")
            }
        }
        await client.close()
        let replies = try Self.varlink(
            daemon,
            [
                Self.call("GetUserRecord", #"{\#(Self.service)}"#, more: true),
                Self.call("GetUserRecord", #"{"userName":"nobody-here",\#(Self.service)}"#),
                Self.call("GetUserRecord", #"{"userName":"login3",\#(Self.service)}"#),
            ], pause: 1.5)
        try #require(
            replies.count == 6, "\(replies.count) replies, the last: \(replies.suffix(2).map { $0.prefix(80) })")
        #expect(replies[4].contains("NoRecordFound"), "\(replies[4].prefix(200))")
        #expect(replies[5].contains(#""userName":"login3""#), "\(replies[5].prefix(200))")
    }

    @Test func oversizedAndMalformedMessagesCloseTheConnection() async throws {
        let daemon = try await Self.daemon()
        let big = Self.call(
            "GetUserRecord", #"{"userName":"\#(String(repeating: "a", count: 20000))",\#(Self.service)}"#)
        #expect(try Self.varlink(daemon, [big]) == ["EOF"])
        #expect(try Self.varlink(daemon, ["{not json"]) == ["EOF"])
        // The daemon still answers.
        #expect(
            try Self.varlink(daemon, [Self.call("GetUserRecord", #"{"userName":"x",\#(Self.service)}"#)]).first?
                .contains("NoRecordFound") == true)
    }

    @Test(.enabled(if: runningAsRoot, "needs root to run vouchctl as uid 65534 (setpriv); CI runs as root"))
    func nonAdminPeersMayNotTouchLogins() async throws {
        let daemon = try await Self.daemon()
        _ = try await daemon.createUser("bob", password: "authz first pass 1")
        for args in [
            ["user", "linux", "bob"], ["user", "linux", "bob", "--login", "true"],
            ["user", "keys", "add", "bob", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9 x"],
            ["user", "keys", "list", "bob"], ["user", "keys", "print", "bob"], ["user", "expire", "bob"],
            ["user", "password-max-age", "bob", "never"],
        ] {
            let r = try daemon.vouchctl(args, asUID: 65534)
            #expect(r.status == 1, "\(args): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("Permission denied"), "\(args): \(r.stderr)")
        }
        let client = try await daemon.client()
        #expect(try await client.linuxAccount(.username("bob")).login == false)
    }

    @Test func linuxOperationsAreForAdminsAndCheckTheirInput() async throws {
        let daemon = try await Self.daemon()
        let client = try await daemon.client()
        _ = try await client.createUser(username: "Carol", password: .text("correct horse 1"))
        #expect(
            await refusedStatus { () async throws(VouchClientError) in
                _ = try await client.setLinuxAccount(.username("Carol"), LinuxAccountChange(login: true))
            } == .invalidInput)
        #expect(
            await refusedStatus { () async throws(VouchClientError) in
                _ = try await client.addSSHKey(.username("Carol"), key: "not a key")
            } == .invalidInput)
        #expect(
            await refusedStatus { () async throws(VouchClientError) in
                _ = try await client.linuxAccount(.username("nobody-here"))
            } == .notFound)
        #expect(try await client.linuxAccount(.username("Carol")).uid == 0)
    }
}
