import Glibc
import VouchProtocol

/// Decides what a peer may do: uid 0, the daemon's own uid and members of
/// the admin group may do everything; anyone else only the operations open
/// to any peer (`Opcode.isOpenToAnyPeer`).  Membership is the peer process's
/// own: its group or its supplementary groups when it connected
/// (SO_PEERGROUPS), not `/etc/group`, so `SupplementaryGroups=` in a unit
/// counts and a process that dropped its groups is not an admin.
public struct Authorizer: Sendable {
    public let daemonUID: UInt32
    public let adminGID: UInt32?

    public init(daemonUID: UInt32 = getuid(), adminGroup: String?) {
        self.daemonUID = daemonUID
        self.adminGID = adminGroup.flatMap(Authorizer.gid(of:))
    }

    public init(daemonUID: UInt32, adminGID: UInt32?) {
        self.daemonUID = daemonUID
        self.adminGID = adminGID
    }

    /// Computed once per connection, from the credentials alone (no
    /// name-service lookup: the admin group's gid was resolved at start).
    public func isAdmin(_ peer: PeerCredentials) -> Bool {
        if peer.uid == 0 || peer.uid == daemonUID { return true }
        guard let adminGID else { return false }
        return peer.gid == adminGID || peer.groups?.contains(adminGID) == true
    }

    public func allows(_ opcode: Opcode, isAdmin: Bool) -> Bool {
        Self.allows(opcode, isAdmin: isAdmin)
    }

    public static func allows(_ opcode: Opcode, isAdmin: Bool) -> Bool {
        isAdmin || opcode.isOpenToAnyPeer
    }

    public static func gid(of group: String) -> UInt32? {
        var grp = GroupEntry()
        var result: UnsafeMutablePointer<GroupEntry>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getgrnam_r(group, &grp, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return grp.gr_gid
    }
}

typealias GroupEntry = Glibc.group
