// Value syntax of the Linux-login keys (see docs/LINUX-LOGINS.md).
extension ConfigLoader.Key {
    /// `first-last`, inclusive, both within 1000...2147483646 (never root,
    /// system ids, or the 16-bit and 32-bit "nobody" ids).
    static func uidRange(_ name: String, _ keyPath: WritableKeyPath<VouchConfig, ClosedRange<UInt32>>) -> Self {
        Self(
            name: name,
            apply: { (config: inout VouchConfig, value: String) throws(ValueError) in
                let parts = value.split(separator: "-", omittingEmptySubsequences: false)
                guard parts.count == 2, ConfigLoader.isDigits(parts[0]), ConfigLoader.isDigits(parts[1]),
                    let first = UInt32(parts[0]), let last = UInt32(parts[1])
                else { throw ValueError("\"\(value)\" is not a range like 70000-99999") }
                guard first <= last else { throw ValueError("\"\(value)\": the first id is above the last") }
                guard first >= 1000, last <= 2_147_483_646, !(first...last).contains(65534),
                    !(first...last).contains(65535)
                else {
                    throw ValueError(
                        "\"\(value)\" must lie within 1000-2147483646 and leave out 65534 and 65535")
                }
                config[keyPath: keyPath] = first...last
            },
            render: { "\($0[keyPath: keyPath].lowerBound)-\($0[keyPath: keyPath].upperBound)" })
    }

    /// An absolute path in which `%u` stands for the username.
    static func homeTemplate(_ name: String, _ keyPath: WritableKeyPath<VouchConfig, String>) -> Self {
        Self(
            name: name,
            apply: { (config: inout VouchConfig, value: String) throws(ValueError) in
                guard value.hasPrefix("/"), value.utf8.count <= 4000, !value.contains(":"),
                    !value.utf8.contains(0)
                else { throw ValueError("\"\(value)\" is not an absolute path without ':'") }
                guard value.contains("%u") else { throw ValueError("\"\(value)\" must contain %u") }
                config[keyPath: keyPath] = value
            },
            render: { $0[keyPath: keyPath] })
    }
}
