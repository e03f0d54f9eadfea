import Foundation
import VouchProtocol

/// Human and JSON renderings of what vouchd answers.  No password or hash
/// ever reaches these: the protocol does not carry them.
enum Output {
    static func time(_ millis: Int64?) -> String {
        guard let millis else { return "never" }
        if millis == Int64.max { return "until unlocked" }
        let date = Date(timeIntervalSince1970: Double(millis) / 1000)
        return date.formatted(
            .iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(
                .colon
            ).timeZone(separator: .omitted))
    }

    static func json(_ user: UserRecord) -> [String: Any] {
        var o: [String: Any] = [
            "id": user.id, "uuid": user.uuid.description, "username": user.username,
            "email": user.email as Any? ?? NSNull(),
            "active": user.flags.contains(.active), "admin": user.flags.contains(.admin),
            "superuser": user.flags.contains(.superuser), "verified": user.flags.contains(.verified),
            "created_at": time(user.createdAt), "updated_at": time(user.updatedAt),
            "last_login": user.lastLogin.map(time) as Any? ?? NSNull(),
            "failed_logins": user.failedLogins,
        ]
        o["locked_until"] = user.lockedUntil.map(time) as Any? ?? NSNull()
        return o
    }

    static func printJSON(_ value: Any) {
        let data =
            (try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        print(String(decoding: data, as: UTF8.self))
    }

    static func printUser(_ user: UserRecord) {
        let rows: [(String, String)] = [
            ("id", "\(user.id)"), ("uuid", user.uuid.description), ("username", user.username),
            ("email", user.email ?? "-"), ("active", yesNo(user.flags.contains(.active))),
            ("admin", yesNo(user.flags.contains(.admin))), ("superuser", yesNo(user.flags.contains(.superuser))),
            ("verified", yesNo(user.flags.contains(.verified))), ("created", time(user.createdAt)),
            ("updated", time(user.updatedAt)), ("last login", time(user.lastLogin)),
            ("failed logins", "\(user.failedLogins)"),
            ("locked", lockState(user.lockedUntil)),
        ]
        let width = rows.map(\.0.count).max() ?? 0
        for (k, v) in rows { print(k.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + v) }
    }

    static func yesNo(_ b: Bool) -> String { b ? "yes" : "no" }

    /// "yes, until ..." while locked; a lock that ran out is not a lock.
    static func lockState(_ lockedUntil: Int64?) -> String {
        guard let until = lockedUntil else { return "no" }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        return until > now
            ? "yes, \(until == Int64.max ? "until unlocked" : "until " + time(until))" : "no (ran out \(time(until)))"
    }

    static func table(_ header: [String], _ rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }
            .joined(separator: "  ")
        }
        print(line(header))
        for row in rows { print(line(row)) }
    }
}
