import Glibc

/// The host's own accounts, which a login user must never shadow: names
/// and ids in /etc/passwd and /etc/group (read as files, so the answer
/// never depends on vouch itself), ids any other NSS source knows
/// (`getpwuid_r`/`getgrgid_r`, with vouch's own userdb service bypassed),
/// and the subordinate id ranges of /etc/subuid and /etc/subgid.
public struct HostAccounts: Sendable {
    public var passwdPath = "/etc/passwd"
    public var groupPath = "/etc/group"
    public var shellsPath = "/etc/shells"
    public var subordinatePaths = ["/etc/subuid", "/etc/subgid"]
    /// Whether to ask NSS (`getpwuid_r`, `getgrgid_r`) too.
    public var askNSS = true

    public init() {}

    /// The name of vouch's io.systemd.UserDatabase service.  Set in
    /// `SYSTEMD_BYPASS_USERDB` at start-up, so vouchd's own NSS lookups
    /// never ask itself.
    public static let userdbService = "io.vouch.UserDatabase"

    /// A login username's problem, if any: the portable rule
    /// `[a-z_][a-z0-9_-]{0,31}`, and no user or group of that name in the files.
    public func nameProblem(_ name: String) -> String? {
        if let problem = Self.portableNameProblem(name) { return problem }
        if Self.names(in: passwdPath).contains(Substring(name)) {
            return "\"\(name)\" is a user in \(passwdPath); a login user may not shadow it"
        }
        if Self.names(in: groupPath).contains(Substring(name)) {
            return "\"\(name)\" is a group in \(groupPath); a login user may not shadow it"
        }
        return nil
    }

    public static func portableNameProblem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        func lower(_ b: UInt8) -> Bool { b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") }
        func digit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        guard let first = bytes.first, bytes.count <= 32, lower(first) || first == UInt8(ascii: "_"),
            bytes.allSatisfy({ lower($0) || digit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") })
        else {
            return "A login username must match [a-z_][a-z0-9_-]{0,31} (lower case, at most 32 characters)"
        }
        return nil
    }

    /// Whether `id` is in use as a uid or gid on the host, or lies in a
    /// subordinate id range.  An NSS entry named `owner` (the login user
    /// holding `id`, as vouch itself serves it) does not count.
    public func idInUse(_ id: UInt32, owner: String? = nil) -> Bool {
        if Self.ids(in: passwdPath, field: 2).contains(id) || Self.ids(in: groupPath, field: 2).contains(id) {
            return true
        }
        if askNSS {
            if let name = Self.nssUserName(uid: id), name != owner { return true }
            if let name = Self.nssGroupName(gid: id), name != owner { return true }
        }
        return subordinatePaths.contains { Self.subordinateRanges(in: $0).contains { $0.contains(id) } }
    }

    /// A shell's problem, if any: it must be an executable listed in /etc/shells.
    public func shellProblem(_ shell: String) -> String? {
        guard Self.lines(of: shellsPath).contains(Substring(shell)) else {
            return "\(shell) is not listed in \(shellsPath)"
        }
        guard access(shell, X_OK) == 0 else { return "\(shell) is not an executable file" }
        return nil
    }

    // MARK: - Files

    static func lines(of path: String) -> [Substring] {
        guard let file = fopen(path, "re") else { return [] }
        defer { fclose(file) }
        var out: [Substring] = []
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) >= 0, let line {
            var text = Substring(String(cString: line))
            while text.last == "\n" || text.last == "\r" { text.removeLast() }
            if text.isEmpty || text.first == "#" { continue }
            out.append(text)
        }
        return out
    }

    /// The first line of `path` that is not blank or a comment.
    public static func firstLine(of path: String) -> String? {
        lines(of: path).first.map(String.init)
    }

    static func names(in path: String) -> Set<Substring> {
        Set(lines(of: path).compactMap { $0.split(separator: ":", omittingEmptySubsequences: false).first })
    }

    static func ids(in path: String, field: Int) -> Set<UInt32> {
        Set(
            lines(of: path).compactMap { line in
                let fields = line.split(separator: ":", omittingEmptySubsequences: false)
                return fields.count > field ? UInt32(fields[field]) : nil
            })
    }

    /// `name:first:count` lines.
    static func subordinateRanges(in path: String) -> [ClosedRange<UInt32>] {
        lines(of: path).compactMap { line in
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 3, let first = UInt32(fields[1]), let count = UInt32(fields[2]), count > 0 else {
                return nil
            }
            let (last, overflow) = first.addingReportingOverflow(count - 1)
            return first...(overflow ? UInt32.max : last)
        }
    }

    // MARK: - NSS

    static func nssUserName(uid: UInt32) -> String? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return entry.pw_name.map { String(cString: $0) } ?? ""
    }

    static func nssGroupName(gid: UInt32) -> String? {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getgrgid_r(gid, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return entry.gr_name.map { String(cString: $0) } ?? ""
    }
}
