import Logging
import VouchCore
import VouchProtocol

/// Lockout and rate-limit operations of the dispatcher: `account_status`,
/// `unlock_user`, and the per-uid limit on failed logins.
extension Dispatcher {
    /// "rate limited" (without hashing) when the peer's uid has used up its failed logins.
    func rateLimitRefusal(_ id: UInt32, _ op: Opcode, _ peer: PeerContext) -> Outcome? {
        guard !rateLimiter.allows(uid: peer.credentials.uid) else { return nil }
        logger.notice(
            "rate limited",
            metadata: [
                "event": "rate_limited", "op": "\(op)", "peer_uid": "\(peer.credentials.uid)",
                "peer_pid": "\(peer.credentials.pid)",
            ])
        return .failure(.rateLimited, AccountError(.rateLimited).reason)
    }

    /// Charges the peer's uid for a failed password check (a wrong password,
    /// an unknown user, or a locked account).
    func chargeFailure(_ error: AccountError, peer: PeerContext) {
        if error.code == .invalidCredentials || error.code == .locked {
            rateLimiter.recordFailure(uid: peer.credentials.uid)
        }
    }

    /// `account_status`: from memory, on the event loop.
    func accountStatus(username: String) -> Outcome {
        Self.answer { () throws(AccountError) -> Reply in
            switch try flows.accounts.accountState(username: username) {
            case .active:
                // Active, but the password must be changed first: pam_vouch's PAM_NEW_AUTHTOK_REQD.
                if let logins = flows.logins, logins.passwordAge(named: username) != .current {
                    throw AccountError(.passwordExpired)
                }
                return .accountState(.active)
            case .inactive: return .accountState(.inactive)
            case .locked: return .accountState(.locked)
            }
        }
    }

    /// `unlock_user` (admin): clears failures and lock, written through.
    func unlockUser(_ id: UInt32, _ op: Opcode, _ selector: UserSelector, peer: PeerContext, sink: ResponseSink)
        -> Outcome
    {
        offload(id, op, sink) { () throws(AccountError) -> Reply in
            let user = try self.flows.accounts.unlockUser(WireMapping.ref(selector))
            self.logger.info(
                "user_unlocked",
                metadata: [
                    "event": "user_unlocked", "user": "\(user.username)", "user_id": "\(user.id)",
                    "peer_uid": "\(peer.credentials.uid)", "peer_pid": "\(peer.credentials.pid)",
                ])
            return .user(WireMapping.record(user))
        }
    }
}
