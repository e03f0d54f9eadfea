import Glibc
import Testing

@testable import VouchServer

/// The admin check reads the peer's own groups (SO_PEERGROUPS), never /etc/group.
@Suite struct AuthorizerTests {
    let authorizer = Authorizer(daemonUID: 4321, adminGID: 4242)

    @Test func theAdminGroupCountsAsPrimaryOrSupplementaryGroupOnly() {
        #expect(authorizer.isAdmin(PeerCredentials(pid: 1, uid: 1000, gid: 4242, groups: [])))
        #expect(authorizer.isAdmin(PeerCredentials(pid: 1, uid: 1000, gid: 100, groups: [27, 4242])))
        #expect(!authorizer.isAdmin(PeerCredentials(pid: 1, uid: 1000, gid: 100, groups: [27])))
        #expect(!authorizer.isAdmin(PeerCredentials(pid: 1, uid: 1000, gid: 100, groups: nil)))
        #expect(authorizer.isAdmin(PeerCredentials(pid: 1, uid: 0, gid: 0, groups: [])))
        #expect(authorizer.isAdmin(PeerCredentials(pid: 1, uid: 4321, gid: 100, groups: [])))
    }

    @Test func aSocketPairReportsThisProcesssGroups() throws {
        var fds: [Int32] = [-1, -1]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer {
            close(fds[0])
            close(fds[1])
        }
        let peer = try #require(PeerCredentials.of(socket: fds[0]))
        var own = [gid_t](repeating: 0, count: 1024)
        let n = getgroups(Int32(own.count), &own)
        #expect(peer.groups.map(Set.init) == Set(own.prefix(Int(n))))
    }
}
