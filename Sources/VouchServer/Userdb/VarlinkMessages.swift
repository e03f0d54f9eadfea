import FoundationEssentials

/// One Varlink call (a NUL-terminated JSON object), decoded with
/// Foundation's `JSONDecoder`.  Unknown members are ignored.
struct VarlinkCall: Decodable {
    struct Parameters: Decodable {
        var userName: String?
        var uid: Int64?
        var groupName: String?
        var gid: Int64?
        var service: String?
    }
    var method: String
    var parameters: Parameters?
    var more: Bool?
    var oneway: Bool?
}

/// One Varlink reply: `parameters`, `continues` while more follow, or `error`.
struct VarlinkReply<Parameters: Encodable>: Encodable {
    var parameters: Parameters
    var continues: Bool?
    var error: String?
}

struct VarlinkRecordParameters<Record: Encodable>: Encodable {
    var record: Record
    var incomplete: Bool
}

struct VarlinkMembershipParameters: Encodable {
    var userName: String
    var groupName: String
}

struct VarlinkNoParameters: Encodable {}

struct VarlinkParameterError: Encodable {
    var parameter: String
}

struct VarlinkMethodError: Encodable {
    var method: String
}

struct VarlinkInfo: Encodable {
    var vendor = "vouch"
    var product = "vouchd"
    var version: String
    var url = "https://github.com/vouch/vouch"
    var interfaces = ["io.systemd.UserDatabase", "org.varlink.service"]
}

/// The errors of io.systemd.UserDatabase and org.varlink.service that vouchd answers.
enum VarlinkError {
    static let noRecordFound = "io.systemd.UserDatabase.NoRecordFound"
    static let badService = "io.systemd.UserDatabase.BadService"
    static let conflictingRecordFound = "io.systemd.UserDatabase.ConflictingRecordFound"
    static let serviceNotAvailable = "io.systemd.UserDatabase.ServiceNotAvailable"
    static let invalidParameter = "org.varlink.service.InvalidParameter"
    static let methodNotFound = "org.varlink.service.MethodNotFound"
    static let expectedMore = "org.varlink.service.ExpectedMore"
}
