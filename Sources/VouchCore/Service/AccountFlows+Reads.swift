/// The reads the server answers from memory, through the one front door
/// (`AccountFlows`): the dispatcher never reaches past it into the
/// account, token or login services.
extension AccountFlows {
    public var userCount: Int { accounts.userCount }
    public var sessionCount: Int { tokens.sessionCount }

    public func user(_ ref: UserRef) throws(AccountError) -> User {
        try accounts.user(ref)
    }

    public func listUsers(limit: Int, page: Int, order: UserOrder, descending: Bool)
        throws(AccountError) -> (total: Int, users: [User])
    {
        try accounts.listUsers(limit: limit, page: page, order: order, descending: descending)
    }

    /// Whether `username` may log in now (PAM's account phase): an active
    /// account whose password has aged out is `passwordExpired`.
    public func accountState(username: String) throws(AccountError) -> AccountState {
        let state = try accounts.accountState(username: username)
        if state == .active, let logins, logins.passwordAge(named: username) != .current {
            throw AccountError(.passwordExpired)
        }
        return state
    }

    /// Clears a user's failed logins and lock, written through.
    public func unlockUser(_ ref: UserRef) throws(AccountError) -> User {
        try accounts.unlockUser(ref)
    }

    /// Users after `afterID` in id order, for an export.
    public func exportUsers(afterID: Int64, limit: Int) throws(AccountError) -> [User] {
        try accounts.exportUsers(afterID: afterID, limit: limit)
    }
}
