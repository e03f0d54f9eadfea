import FoundationEssentials
import Synchronization
import VouchCore
import VouchProtocol

/// The methods of io.systemd.UserDatabase over vouch's login users:
/// plain logic over memory, no I/O and no waiting, so it runs on the event
/// loop.  Whatever cannot be answered at once (no machine id, shutting
/// down) is answered `ServiceNotAvailable` at once: a slow provider stalls
/// every user lookup on the host.
final class UserdbResponder: Sendable {
    let logins: LoginService
    /// The status section's key; nil answers every lookup `ServiceNotAvailable`.
    let machineID: String?
    let draining = Atomic<Bool>(false)

    init(logins: LoginService, machineID: String?) {
        self.logins = logins
        self.machineID = machineID
    }

    /// What a call gets: frames at once, a stream of records, or nothing (oneway).
    enum Answer {
        case frames([[UInt8]])
        case stream(UserdbStream)
    }

    func answer(_ call: VarlinkCall, privileged: Bool) -> Answer {
        let p = call.parameters ?? VarlinkCall.Parameters()
        let more = call.more ?? false
        switch call.method {
        case "org.varlink.service.GetInfo":
            return .frames([Self.frame(VarlinkReply(parameters: VarlinkInfo(version: VouchVersion.string)))])
        case "io.systemd.UserDatabase.GetUserRecord":
            if let refusal = refusal(p, unexpected: p.groupName != nil || p.gid != nil ? "groupName" : nil) {
                return refusal
            }
            guard let machineID else { return Self.error(VarlinkError.serviceNotAvailable) }
            let settings = logins.settings
            return lookup(name: p.userName, id: p.uid, more: more) { user, profile in
                let record = UserdbUserRecord(
                    user: user, profile: profile, settings: settings, machineID: machineID, privileged: privileged)
                let incomplete = !privileged && !profile.sshKeys.isEmpty
                return VarlinkRecordParameters(record: record, incomplete: incomplete)
            }
        case "io.systemd.UserDatabase.GetGroupRecord":
            if let refusal = refusal(p, unexpected: p.userName != nil || p.uid != nil ? "userName" : nil) {
                return refusal
            }
            guard let machineID else { return Self.error(VarlinkError.serviceNotAvailable) }
            return lookup(name: p.groupName, id: p.gid, more: more) { user, profile in
                VarlinkRecordParameters(
                    record: UserdbGroupRecord(user: user, profile: profile, machineID: machineID), incomplete: false)
            }
        case "io.systemd.UserDatabase.GetMemberships":
            if let refusal = refusal(p, unexpected: p.uid != nil || p.gid != nil ? "uid" : nil) { return refusal }
            // A login user's only group is their primary group, which records carry as gid:
            // vouch has no supplementary memberships to list.
            return Self.error(VarlinkError.noRecordFound)
        default:
            return .frames([
                Self.frame(
                    VarlinkReply(
                        parameters: VarlinkMethodError(method: call.method), error: VarlinkError.methodNotFound))
            ])
        }
    }

    /// `BadService` for another service's name, `InvalidParameter` for a
    /// parameter the method does not take, `ServiceNotAvailable` while shutting down.
    private func refusal(_ p: VarlinkCall.Parameters, unexpected: String?) -> Answer? {
        if let unexpected {
            return .frames([
                Self.frame(
                    VarlinkReply(
                        parameters: VarlinkParameterError(parameter: unexpected), error: VarlinkError.invalidParameter))
            ])
        }
        if p.service != HostAccounts.userdbService { return Self.error(VarlinkError.badService) }
        if draining.load(ordering: .relaxed) { return Self.error(VarlinkError.serviceNotAvailable) }
        return nil
    }

    /// The login users a user or group lookup names (a group shares its
    /// user's name, and its gid is the uid): by name, by id, both (which
    /// must agree), or all of them for an enumeration.
    private func lookup<P: Encodable>(
        name: String?, id: Int64?, more: Bool, _ parameters: @escaping (User, LoginProfile) -> P
    ) -> Answer {
        let records: [(User, LoginProfile)]
        switch (name, id) {
        case (nil, nil):
            guard more else { return Self.error(VarlinkError.expectedMore) }
            records = logins.loginUsers()
        case (let name?, let id):
            guard let found = logins.loginUser(named: name) else { return Self.error(VarlinkError.noRecordFound) }
            if let id, Int64(found.1.uid ?? 0) != id { return Self.error(VarlinkError.conflictingRecordFound) }
            records = [found]
        case (nil, let id?):
            guard let found = UInt32(exactly: id).flatMap(logins.loginUser(uid:)) else {
                return Self.error(VarlinkError.noRecordFound)
            }
            records = [found]
        }
        return stream(records, parameters)
    }

    private func stream<P: Encodable>(
        _ records: [(User, LoginProfile)], _ parameters: @escaping (User, LoginProfile) -> P
    ) -> Answer {
        guard !records.isEmpty else { return Self.error(VarlinkError.noRecordFound) }
        return .stream(
            UserdbStream(count: records.count) { i, continues in
                let (user, profile) = records[i]
                return Self.frame(
                    VarlinkReply(parameters: parameters(user, profile), continues: continues ? true : nil))
            })
    }

    static func error(_ name: String) -> Answer {
        .frames([frame(VarlinkReply(parameters: VarlinkNoParameters(), error: name))])
    }

    /// A reply as JSON followed by the NUL that ends a Varlink message.
    static func frame<P: Encodable>(_ reply: VarlinkReply<P>) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        var bytes =
            (try? encoder.encode(reply)).map { Array($0) }
            ?? Array(#"{"error":"org.varlink.service.InvalidParameter","parameters":{"parameter":"record"}}"#.utf8)
        bytes.append(0)
        return bytes
    }
}

/// The replies of one call, encoded one at a time as the peer reads them
/// (an enumeration to a peer that does not read holds no more than the
/// socket buffer).
struct UserdbStream {
    let count: Int
    let encode: (Int, Bool) -> [UInt8]
    private(set) var next = 0

    init(count: Int, encode: @escaping (Int, Bool) -> [UInt8]) {
        self.count = count
        self.encode = encode
    }

    var isFinished: Bool { next >= count }

    mutating func nextFrame() -> [UInt8]? {
        guard next < count else { return nil }
        defer { next += 1 }
        return encode(next, next + 1 < count)
    }
}
