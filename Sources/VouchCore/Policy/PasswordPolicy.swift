import VouchSecrets

// TEMPORARY: a stand-in with the agreed API until the real PasswordPolicy
// lands from the hashing branch; replaced at merge.

/// Which passwords vouch accepts for new or changed passwords.
public struct PasswordPolicy: Sendable, Hashable {
    public static let maxLength = 128
    public var minLength: Int

    public init(minLength: Int = 8) {
        self.minLength = minLength
    }

    /// nil when `password` is acceptable, else a human reason.
    public func problem(with password: SecretBytes, username: String, email: String?) -> String? {
        if password.isEmpty { return "A password must be provided." }
        guard let length = password.unicodeScalarCount else {
            return "The password must be valid UTF-8."
        }
        if length < minLength { return "The password is too short. (min \(minLength))" }
        if length > Self.maxLength { return "The password is too long. (max \(Self.maxLength))" }
        let looksHashed = password.withUnsafeBytes { raw in
            raw.starts(with: "pbkdf2_sha256".utf8) || raw.starts(with: "$argon2".utf8)
        }
        if looksHashed { return "Do not pass a hashed password." }
        return nil
    }
}
