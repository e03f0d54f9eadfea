/// Rules for usernames and emails, and the keys that make them unique
/// ignoring ASCII case.
public enum IdentityRules {
    public static let maxUsernameLength = 100

    /// The key under which a username or email is unique and looked up:
    /// ASCII letters folded to lowercase, every other character as it is.
    /// Unicode case folding would make distinct names one account (the
    /// Kelvin sign K and K, dotted and dotless I, final and medial sigma);
    /// like the shadow file, a non-ASCII name matches only as written.
    public static func canonicalKey(_ s: String) -> String {
        // UTF-8 bytes 0x41-0x5A are ASCII capitals only (never inside a multi-byte character).
        guard s.utf8.contains(where: isASCIICapital) else { return s }
        return String(decoding: s.utf8.map { isASCIICapital($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    static func isASCIICapital(_ byte: UInt8) -> Bool { byte >= 0x41 && byte <= 0x5A }

    /// nil when `username` is acceptable, else a human reason.
    public static func usernameProblem(_ username: String) -> String? {
        let scalars = username.unicodeScalars
        if scalars.isEmpty { return "A username must be provided." }
        // Like useradd: a name that begins with '-' reads as an option to every command line tool.
        if scalars.first == "-" { return "The username must not begin with '-'." }
        if scalars.count > maxUsernameLength {
            return "The username is too long. (max \(maxUsernameLength))"
        }
        for s in scalars {
            // Control, whitespace and invisible format characters (zero-width
            // space, bidi overrides, BOM) would make look-alike names.
            let category = s.properties.generalCategory
            if category == .control || category == .format || s.properties.isWhitespace {
                return "The username must not contain whitespace or control characters."
            }
            if s == ":" || s == "/" { return "The username must not contain ':' or '/'." }
        }
        return nil
    }

    /// nil when `email` is acceptable, else a human reason.
    public static func emailProblem(_ email: String) -> String? {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
            email.unicodeScalars.count <= 254,
            !email.unicodeScalars.contains(where: {
                $0.properties.isWhitespace || $0.properties.generalCategory == .control
            })
        else { return "The email address is not valid." }
        return nil
    }
}
