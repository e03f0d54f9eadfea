import Foundation

/// Which /etc/shadow entries `user import --from shadow` takes: regular users
/// only, as useradd defines them (uid between UID_MIN and UID_MAX of
/// /etc/login.defs, looked up in /etc/passwd), unless `--all`.
struct ShadowAccounts {
    /// Defaults of shadow-utils when login.defs does not say.
    static let defaultRange: ClosedRange<UInt32> = 1000...60000

    /// Each account's uid, from the passwd file.
    var uids: [String: UInt32]
    /// The uids imported; nil imports every entry (`--all`).
    var range: ClosedRange<UInt32>?
    /// Where the uids come from, for messages.
    var passwdPath: String
    var loginDefsPath: String

    /// Reads `passwd` (required unless `all`) and `loginDefs` (may be missing).
    static func load(passwd: String, loginDefs: String, all: Bool) throws -> ShadowAccounts {
        var uids: [String: UInt32] = [:]
        if let text = try? String(contentsOfFile: passwd, encoding: .utf8) {
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: ":", omittingEmptySubsequences: false)
                if fields.count >= 3, let uid = UInt32(fields[2]) { uids[String(fields[0])] = uid }
            }
        } else if !all {
            throw CLIFailure.refused(
                "cannot read \(passwd) (the uids that tell regular users apart; --all imports every entry)")
        }
        var range: ClosedRange<UInt32>? = nil
        if !all {
            var low = defaultRange.lowerBound
            var high = defaultRange.upperBound
            if let text = try? String(contentsOfFile: loginDefs, encoding: .utf8) {
                for line in text.split(separator: "\n") {
                    let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                    guard words.count >= 2, let value = UInt32(words[1]) else { continue }
                    if words[0] == "UID_MIN" { low = value }
                    if words[0] == "UID_MAX" { high = value }
                }
            }
            guard low <= high else { throw CLIFailure.refused("\(loginDefs): UID_MIN \(low) is above UID_MAX \(high)") }
            range = low...high
        }
        return ShadowAccounts(uids: uids, range: range, passwdPath: passwd, loginDefsPath: loginDefs)
    }

    /// Why `name` is not imported, or nil to import it.
    func skipReason(_ name: String) -> String? {
        guard let range else { return nil }
        guard let uid = uids[name] else {
            return "not in \(passwdPath), so not known as a regular user (--all imports it)"
        }
        guard range.contains(uid) else {
            return "uid \(uid) is outside UID_MIN..UID_MAX (\(range.lowerBound)..\(range.upperBound), "
                + "\(loginDefsPath)): a system account (--all imports it)"
        }
        return nil
    }
}
