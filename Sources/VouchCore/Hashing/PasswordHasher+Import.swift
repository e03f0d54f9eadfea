extension PasswordHasher {
    /// Whether `encoded` may be stored as a user's password hash as it is
    /// (by an import): a string `verify` checks (argon2, Piccolo
    /// `pbkdf2_sha256`, bcrypt, yescrypt, sha-crypt, with a sane cost), or an
    /// unusable-password marker starting with `!` or `*` (as in /etc/shadow),
    /// which never matches any password.
    public static func isStorableHash(_ encoded: String) -> Bool {
        guard !encoded.isEmpty, encoded.utf8.count <= PHCString.maxEncodedLength,
            encoded.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { return false }
        if encoded.hasPrefix("!") || encoded.hasPrefix("*") { return true }
        if encoded.hasPrefix("$argon2") { return Argon2Format.Stored(encoded) != nil }
        if encoded.hasPrefix(PBKDF2Format.prefix) { return PBKDF2Format.Stored(encoded) != nil }
        return CryptFormat.isAcceptable(encoded)
    }
}
