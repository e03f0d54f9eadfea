import CVouchSys
import Glibc

/// Who is on the other end of a Unix socket connection: SO_PEERCRED, and
/// the supplementary groups it had when it connected (SO_PEERGROUPS).
public struct PeerCredentials: Hashable, Sendable, CustomStringConvertible {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32
    /// The peer's supplementary groups; nil when the kernel cannot say (before Linux 4.13).
    public var groups: [UInt32]?

    public init(pid: Int32, uid: UInt32, gid: UInt32, groups: [UInt32]? = nil) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
        self.groups = groups
    }

    /// Reads the credentials of a connected socket; nil if the kernel won't say.
    /// Two getsockopt calls, no name-service lookup: cheap on the event loop.
    public static func of(socket fd: Int32) -> PeerCredentials? {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
        guard cvouch_peercred(fd, &pid, &uid, &gid) == 0 else { return nil }
        return PeerCredentials(pid: pid, uid: uid, gid: gid, groups: supplementaryGroups(of: fd))
    }

    static func supplementaryGroups(of fd: Int32) -> [UInt32]? {
        var room = 64
        while true {
            var groups = [UInt32](repeating: 0, count: room)
            let n = cvouch_peergroups(fd, &groups, Int32(room))
            if n < 0 { return nil }
            if Int(n) <= room { return Array(groups.prefix(Int(n))) }
            room = Int(n)
        }
    }

    public var description: String { "uid=\(uid) pid=\(pid)" }
}
