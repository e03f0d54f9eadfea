import Logging
import VouchCore
import VouchProtocol

/// Lockout and rate-limit operations of the dispatcher: `account_status`,
/// `unlock_user`, the per-source limit on failed password checks, and the
/// limits on token requests and redemptions.
extension Dispatcher {
    /// A password check admitted by its source's bucket, or the second try
    /// of an attempt whose first try was.
    struct PasswordCharge {
        var source: RequestSource
        var attempts: PasswordAttempts
        /// The login (username and context) a privileged peer may retry once.
        var retryKey: PasswordAttempts.Key?
        var isRetry: Bool
    }

    /// Checks a password (`work`: login or change_password) on the worker
    /// pool, within `source`'s allowance of failures.
    func checkPassword(
        _ id: UInt32, _ op: Opcode, _ sink: ResponseSink, _ peer: PeerContext, _ source: RequestSource,
        retryOf login: (String, LoginContext)?, _ work: @escaping @Sendable () throws(AccountError) -> Reply
    ) -> Outcome {
        let charge: PasswordCharge
        switch passwordCheckStarts(op, peer, source, retryOf: login) {
        case .success(let c): charge = c
        case .failure(let refusal): return .failure(refusal.status, refusal.message)
        }
        let outcome = offload(id, op, sink, source) { () throws(AccountError) -> Reply in
            do throws(AccountError) {
                let reply = try work()
                self.passwordCheckEnded(charge, failed: false)
                return reply
            } catch {
                self.passwordCheckEnded(charge, failed: Self.isPasswordFailure(error))
                throw error
            }
        }
        if case .failure = outcome { passwordCheckDropped(charge) }
        return outcome
    }

    /// Starts a password check for `source`, or answers at once, without
    /// hashing: `rate limited` when the source has used up its failures,
    /// `busy` when checks in progress hold the rest of its allowance.  The
    /// second password of one PAM attempt (`PasswordAttempts`) starts
    /// without a claim of its own.
    func passwordCheckStarts(
        _ op: Opcode, _ peer: PeerContext, _ source: RequestSource, retryOf login: (String, LoginContext)?
    ) -> Result<PasswordCharge, Refusal> {
        let key = peer.isAdmin ? login.map { PasswordAttempts.Key(username: $0.0, context: $0.1) } : nil
        if let key, peer.attempts.claimRetry(key) {
            return .success(PasswordCharge(source: source, attempts: peer.attempts, retryKey: key, isRetry: true))
        }
        switch limits.passwordFailures.begin(source) {
        case .admitted:
            return .success(PasswordCharge(source: source, attempts: peer.attempts, retryKey: key, isRetry: false))
        case .limited:
            noteRateLimited(op, peer, source)
            return .failure(Refusal(.rateLimited, AccountError(.rateLimited).reason))
        case .busy:
            repeats.note(
                .warning, "password checks in progress hold the source's allowance; answered busy", event: "busy",
                source: "\(source)", metadata: ["op": "\(op)"])
            return .failure(Refusal(.busy, AccountError(.busy).reason))
        }
    }

    /// A password check refused `busy` after it started: it never ran.
    func passwordCheckDropped(_ charge: PasswordCharge) {
        if !charge.isRetry { limits.passwordFailures.end(charge.source, counted: false) }
    }

    /// A refusal given before any work.
    struct Refusal: Error {
        var status: Status
        var message: String
        init(_ status: Status, _ message: String) {
            self.status = status
            self.message = message
        }
    }

    /// Ends a password check: a failure takes a token.  A retry's success
    /// gives back its first try's token (the attempt succeeded); its failure
    /// costs nothing more.
    func passwordCheckEnded(_ charge: PasswordCharge, failed: Bool) {
        if charge.isRetry {
            if !failed { limits.passwordFailures.refund(charge.source) }
            return
        }
        limits.passwordFailures.end(charge.source, counted: failed)
        if failed, let key = charge.retryKey { charge.attempts.recordFailure(key) }
    }

    /// A wrong password, an unknown user, or a locked account.
    static func isPasswordFailure(_ error: AccountError) -> Bool {
        error.code == .invalidCredentials || error.code == .locked
    }

    func noteRateLimited(_ op: Opcode, _ peer: PeerContext, _ source: RequestSource) {
        repeats.note(
            .notice, "rate limited", event: "rate_limited", source: "\(source)",
            metadata: ["op": "\(op)", "peer_uid": "\(peer.credentials.uid)", "peer_pid": "\(peer.credentials.pid)"])
    }

    /// `account_status`: from memory, on the event loop.  An unprivileged
    /// peer asking about names that do not exist (enumerating accounts) is
    /// charged like a failed login; root and admins, who may list the users
    /// anyway (and whose PAM account phase asks on every login), are not.
    func accountStatus(_ op: Opcode, username: String, peer: PeerContext) -> Outcome {
        let source = peer.source()
        let limited = !peer.isAdmin
        if limited {
            switch limits.passwordFailures.begin(source) {
            case .admitted: break
            case .limited:
                noteRateLimited(op, peer, source)
                return .failure(.rateLimited, "Too many failed logins or unknown names; try again later")
            case .busy:
                return .failure(.busy, AccountError(.busy).reason)
            }
        }
        let outcome = Self.answer { () throws(AccountError) -> Reply in
            .accountState(WireMapping.accountState(try flows.accountState(username: username)))
        }
        if limited {
            // Only an unknown name is charged: an existing account in any state
            // (locked, inactive, its password expired) is what PAM asks about.
            var unknown = false
            if case .failure(.notFound, _) = outcome { unknown = true }
            limits.passwordFailures.end(source, counted: unknown)
        }
        return outcome
    }

    /// `forgot_password`: the same answer, at once, whether or not the
    /// account exists; the work happens afterwards on the token pool.
    func forgotPassword(_ who: String, peer: PeerContext) -> Outcome {
        let uid = peer.credentials.uid
        guard limits.tokenRequests.take(uid) else {
            noteRateLimited(.forgotPassword, peer, peer.source())
            return .failure(.rateLimited, "Too many password-reset requests; try again later")
        }
        let caller = peer.caller()
        let flows = self.flows
        let perAccount = limits.tokenRequestsPerAccount
        let source = peer.source()
        guard
            workerPool(for: .forgotPassword).submit(
                source: source, { flows.forgotPassword(who, caller: caller, admit: perAccount.take) })
        else {
            limits.tokenRequests.refund(uid)  // nothing was done: the allowance is not spent
            repeats.note(
                .warning, "token queue full; answered busy", event: "busy", source: "\(source)",
                metadata: ["op": "forgot_password"])
            return .failure(.busy, AccountError(.busy).reason)
        }
        return .reply(.empty)
    }

    /// `request_verify` (admin): on the token pool, limited per uid and per account.
    func requestVerify(_ id: UInt32, _ op: Opcode, _ selector: UserSelector, peer: PeerContext, sink: ResponseSink)
        -> Outcome
    {
        guard limits.tokenRequests.take(peer.credentials.uid) else {
            noteRateLimited(op, peer, peer.source())
            return .failure(.rateLimited, "Too many verification requests; try again later")
        }
        let flows = self.flows
        let perAccount = limits.tokenRequestsPerAccount
        let outcome = offload(id, op, sink, peer.source()) { () throws(AccountError) -> Reply in
            try flows.requestVerify(WireMapping.ref(selector), caller: peer.caller(), admit: perAccount.take)
            return .empty
        }
        // Refused for load before anything was done: the allowance is not spent.
        if case .failure(.busy, _) = outcome { limits.tokenRequests.refund(peer.credentials.uid) }
        return outcome
    }

    /// `reset_password` and `verify_email`: failed redemptions (wrong or
    /// expired tokens) are limited per peer uid, like failed logins.
    func redeemToken(
        _ id: UInt32, _ op: Opcode, _ sink: ResponseSink, _ peer: PeerContext,
        _ work: @escaping @Sendable () throws(AccountError) -> Reply
    ) -> Outcome {
        let uid = peer.credentials.uid
        let failures = limits.tokenFailures
        // Guesses still being checked hold the rest of the allowance: to the
        // guesser that is the same limit.
        guard failures.begin(uid) == .admitted else {
            noteRateLimited(op, peer, peer.source())
            return .failure(.rateLimited, "Too many invalid tokens; try again later")
        }
        let outcome = offload(id, op, sink, peer.source()) { () throws(AccountError) -> Reply in
            do throws(AccountError) {
                let reply = try work()
                failures.end(uid, counted: false)
                return reply
            } catch {
                failures.end(uid, counted: error.code == .invalidToken)
                throw error
            }
        }
        if case .failure = outcome { failures.end(uid, counted: false) }
        return outcome
    }

    /// `unlock_user` (admin): clears failures and lock, written through.
    func unlockUser(_ id: UInt32, _ op: Opcode, _ selector: UserSelector, peer: PeerContext, sink: ResponseSink)
        -> Outcome
    {
        offload(id, op, sink, peer.source()) { () throws(AccountError) -> Reply in
            let user = try self.flows.unlockUser(WireMapping.ref(selector))
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
