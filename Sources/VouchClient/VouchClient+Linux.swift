import VouchProtocol

/// Linux logins, SSH keys and password aging (opcodes 0x60-0x64, admin).
extension VouchClient {
    public func linuxAccount(_ user: UserSelector) async throws(VouchClientError) -> LinuxAccountRecord {
        try await linux(.getLinuxAccount(user))
    }

    /// Turns the Linux login on or off and sets its fields; nil leaves a
    /// field, an empty home or shell returns it to the server's default.
    public func setLinuxAccount(_ user: UserSelector, _ change: LinuxAccountChange) async throws(VouchClientError)
        -> LinuxAccountRecord
    {
        try await linux(.setLinuxAccount(user, change))
    }

    public func addSSHKey(_ user: UserSelector, key: String) async throws(VouchClientError) -> LinuxAccountRecord {
        try await linux(.addSSHKey(user, key: key))
    }

    /// `key`: the key's line, or its base64 part.
    public func removeSSHKey(_ user: UserSelector, key: String) async throws(VouchClientError) -> LinuxAccountRecord {
        try await linux(.removeSSHKey(user, key: key))
    }

    /// `maxAgeSeconds`: nil leaves it, `.some(nil)` returns to `password_max_age`,
    /// `.some(0)` never expires.  `expire`: the password must be changed at the next login.
    public func setPasswordAging(_ user: UserSelector, maxAgeSeconds: Int64?? = nil, expire: Bool = false)
        async throws(VouchClientError) -> LinuxAccountRecord
    {
        try await linux(.setPasswordAging(user, maxAge: maxAgeSeconds, expire: expire))
    }

    private func linux(_ request: LinuxRequest) async throws(VouchClientError) -> LinuxAccountRecord {
        guard case .linuxAccount(let record) = try await send(.linux(request)) else { throw unexpected() }
        return record
    }
}
