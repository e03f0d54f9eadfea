import CVouchSys
import VouchSecrets

/// What a new password must satisfy (FastAPI Users' `validate_password`
/// and Piccolo's rules).  Lengths count Unicode scalars, as Python counts
/// code points.
public struct PasswordPolicy: Sendable, Hashable {
    /// Longest accepted password in Unicode scalars (Piccolo's limit).
    public static let maxLength = 128
    /// Shortest accepted password in Unicode scalars.
    public var minLength: Int
    /// The shortest email local part that a password may not contain.
    public static let minEmailLocalPartLength = 3
    /// Whether the password may not contain the username or the email's
    /// local part (`password_refuse_identity`).
    public var refuseIdentity: Bool

    public init(minLength: Int = 8, refuseIdentity: Bool = true) {
        self.minLength = minLength
        self.refuseIdentity = refuseIdentity
    }

    /// The policy a configuration asks for.
    public init(config: VouchConfig) {
        self.init(minLength: config.passwordMinLength, refuseIdentity: config.passwordRefuseIdentity)
    }

    /// nil when acceptable, else a human reason that reaches the CLI.
    /// The reason never contains the password.
    ///
    /// Checked in order: empty, invalid UTF-8, NUL, too long, too short,
    /// looks like a stored hash, contains the username, contains the
    /// email's local part (only when it is at least 3 characters); the
    /// last two ignore case and apply only with `refuseIdentity`.
    public func problem(with password: SecretBytes, username: String, email: String?) -> String? {
        if password.isEmpty { return "A password must be provided." }
        // Validity is checked before length (the documented order), so this
        // decodes the whole input once: linear, and bounded by the frame size.
        guard let scalarCount = password.unicodeScalarCount else {
            return "The password is not valid UTF-8."
        }
        if password.containsNUL { return "The password must not contain a NUL character." }
        if scalarCount > PasswordPolicy.maxLength {
            return "The password is too long. (max \(PasswordPolicy.maxLength))"
        }
        if scalarCount < minLength { return "The password is too short. (min \(minLength))" }
        if PasswordHasher.looksLikeHash(password) { return "Do not pass a hashed password." }
        guard refuseIdentity else { return nil }

        let usernameKey = PasswordPolicy.caseFolded(username.unicodeScalars)
        var emailKey: [Unicode.Scalar] = []
        if let email {
            let local = email.split(separator: "@", omittingEmptySubsequences: false).dropLast()
                .joined(separator: "@")
            let localPart = email.contains("@") ? local : email
            if localPart.count >= PasswordPolicy.minEmailLocalPartLength {
                emailKey = PasswordPolicy.caseFolded(localPart.unicodeScalars)
            }
        }
        if usernameKey.isEmpty && emailKey.isEmpty { return nil }

        // The lowercased password lives in a buffer reserved up front (no
        // reallocation copies) and is wiped before returning.
        var folded: [Unicode.Scalar] = []
        folded.reserveCapacity(scalarCount * 3)
        defer { folded.withUnsafeMutableBytes { cvouch_secure_zero($0.baseAddress, $0.count) } }
        password.withUnsafeBytes { raw in
            var it = raw.bindMemory(to: UInt8.self).makeIterator()
            var decoder = UTF8()
            while case .scalarValue(let s) = decoder.decode(&it) {
                PasswordPolicy.appendLowercase(s, to: &folded)
            }
        }
        if !usernameKey.isEmpty && PasswordPolicy.contains(folded, usernameKey) {
            return "The password must not contain the username."
        }
        if !emailKey.isEmpty && PasswordPolicy.contains(folded, emailKey) {
            return "The password must not contain the email address."
        }
        return nil
    }

    /// Throws `passwordRejected` with ``problem(with:username:email:)``'s reason.
    public func validate(_ password: SecretBytes, username: String, email: String?)
        throws(AccountError)
    {
        if let reason = problem(with: password, username: username, email: email) {
            throw AccountError.passwordRejected(reason)
        }
    }

    static func caseFolded(_ scalars: String.UnicodeScalarView) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        for s in scalars { appendLowercase(s, to: &out) }
        return out
    }

    /// Appends the full lowercase mapping of `s` (at most 3 scalars; a small
    /// string, so no heap copy of the password is made).
    static func appendLowercase(_ s: Unicode.Scalar, to out: inout [Unicode.Scalar]) {
        if s.isASCII {
            let v = s.value
            out.append((0x41...0x5A).contains(v) ? Unicode.Scalar(UInt8(v + 0x20)) : s)
        } else {
            out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
        }
    }

    static func contains(_ haystack: [Unicode.Scalar], _ needle: [Unicode.Scalar]) -> Bool {
        guard !needle.isEmpty, needle.count <= haystack.count else { return false }
        for start in 0...(haystack.count - needle.count)
        where haystack[start..<start + needle.count].elementsEqual(needle) {
            return true
        }
        return false
    }
}
