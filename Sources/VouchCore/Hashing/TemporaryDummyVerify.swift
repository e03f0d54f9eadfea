import VouchSecrets

// TEMPORARY: stands in for the hashing branch's dummyVerify until it is
// merged; replaced at merge.

extension PasswordHasher {
    /// Does the work of one verification against no account, so an unknown
    /// user costs the same time as a wrong password.
    public func dummyVerify(_ password: SecretBytes) {
        _ = try? hash(password)
    }
}
