import Logging
import VouchCore
import VouchProtocol
import VouchSecrets

/// Who sent a request, as far as the daemon needs to know.
public struct PeerContext: Sendable {
    public var credentials: PeerCredentials
    public var isAdmin: Bool
    /// The connection's password attempts (pam_vouch's try_first_pass retry).
    let attempts = PasswordAttempts()
    public init(credentials: PeerCredentials, isAdmin: Bool) {
        self.credentials = credentials
        self.isAdmin = isAdmin
    }

    /// Whose share a request is charged to: for root and admins (PAM in
    /// sshd, su, login; trusted to report where a login comes from) the
    /// service and remote host of the login, otherwise the uid alone.
    func source(_ context: LoginContext? = nil) -> RequestSource {
        guard isAdmin, let context else { return RequestSource(uid: credentials.uid) }
        // Bounded, as keys of the rate limits and queues (a host name is at most 255 bytes).
        func key(_ s: String) -> String {
            s.utf8.count <= 255 ? s : String(decoding: s.utf8.prefix(255), as: UTF8.self)
        }
        return RequestSource(uid: credentials.uid, service: key(context.service), remoteHost: key(context.remoteHost))
    }

    func caller(_ context: LoginContext? = nil) -> Caller {
        Caller(
            uid: credentials.uid, pid: credentials.pid, service: context?.service ?? "",
            remoteHost: context?.remoteHost ?? "", tty: context?.tty ?? "")
    }
}

/// Receives responses finished on a worker thread.
public protocol ResponseSink: AnyObject, Sendable {
    func deliver(_ frame: [UInt8], requestID: UInt32)
}

/// Turns a decoded request into a response frame.  Plain logic, no I/O:
/// fast requests (ping, lookups, token verification) are answered from
/// memory before `handle` returns; requests that hash a password or write
/// to the database run on the worker pool and are answered through the
/// connection's `ResponseSink`.
public final class Dispatcher: Sendable {
    /// What `handle` did with a request.  Answers given at once are values:
    /// the connection encodes them straight into its output buffer.
    public enum Outcome {
        /// `ok`, with this reply.
        case reply(Reply)
        /// Refused, with this status and message.
        case failure(Status, String)
        /// Running on the worker pool; the answer comes through the sink.
        case deferred
    }

    let flows: AccountFlows
    let pool: WorkerPool
    let metrics: ServerMetrics
    let authorizer: Authorizer
    let maxFrameBytes: Int
    let logger: Logger
    /// Backups, export and import; nil answers their opcodes "unknown opcode".
    let data: DataService?
    let limits: RequestLimits
    /// forgot_password and request_verify (database writes and hooks, no
    /// hashing) run here, off the password-hashing queue.
    let tokenPool: WorkerPool
    /// Lines a flood would repeat, one per source and interval.
    public let repeats: RepeatLog

    /// `tokenPool` nil: token requests share `pool`.
    public init(
        flows: AccountFlows, pool: WorkerPool, metrics: ServerMetrics, authorizer: Authorizer, maxFrameBytes: Int,
        logger: Logger, data: DataService? = nil, limits: RequestLimits = .off(), tokenPool: WorkerPool? = nil
    ) {
        self.data = data
        self.limits = limits
        self.tokenPool = tokenPool ?? pool
        self.repeats = RepeatLog(logger: logger)
        self.flows = flows
        self.pool = pool
        self.metrics = metrics
        self.authorizer = authorizer
        self.maxFrameBytes = maxFrameBytes
        self.logger = logger
    }

    public func handle(id: UInt32, request: Request, peer: PeerContext, sink: ResponseSink) -> Outcome {
        let op = request.opcode
        guard authorizer.allows(op, isAdmin: peer.isAdmin) else { return denial(op, peer: peer) }
        let flows = self.flows
        let source = peer.source()
        switch request {
        // Answered from memory, on the event loop.
        case .hello:
            let hello = ServerHello(
                minVersion: Frame.minProtocolVersion, maxVersion: Frame.protocolVersion,
                maxFrameBytes: UInt32(maxFrameBytes), serverVersion: VouchVersion.string)
            return .reply(.hello(hello))
        case .ping:
            return .reply(.empty)
        case .status:
            let status = ServerStatus(
                serverVersion: VouchVersion.string, uptimeMillis: metrics.uptimeMillis,
                users: Int64(flows.userCount), tokens: Int64(flows.sessionCount),
                requestsServed: metrics.requests, connections: metrics.openConnections)
            return .reply(.status(status))
        case .getUser(let selector):
            return Self.answer { () throws(AccountError) in
                .user(WireMapping.record(try flows.user(WireMapping.ref(selector))))
            }
        case .verifyToken(let token):
            return Self.answer { () throws(AccountError) in
                let (user, expiresAt) = try flows.verifyToken(token)
                return .tokenOwner(user: WireMapping.record(user), expiresAt: expiresAt)
            }
        case .listTokens(let selector):
            return Self.answer { () throws(AccountError) in
                .tokens(try flows.listTokens(WireMapping.ref(selector)).map(WireMapping.tokenInfo))
            }
        case .forgotPassword(let who):
            return forgotPassword(who, peer: peer)

        // Hashing or writing: on the worker pool.
        case .createUser(let username, let email, let password, let flags):
            return offload(id, op, sink, source) { () throws(AccountError) in
                .user(
                    WireMapping.record(
                        try flows.createUser(
                            username: username, email: email, password: password, flags: WireMapping.flags(flags),
                            caller: peer.caller())))
            }
        case .login(let username, let password, let wantToken, let context):
            return checkPassword(id, op, sink, peer, peer.source(context), retryOf: (username, context)) {
                () throws(AccountError) in
                let result = try flows.login(
                    username: username, password: password, wantToken: wantToken, caller: peer.caller(context))
                return .login(
                    user: WireMapping.record(result.user),
                    token: result.session.map { IssuedToken(token: $0.token, expiresAt: $0.expiresAt) })
            }
        case .changePassword(let username, let old, let new):
            return checkPassword(id, op, sink, peer, source, retryOf: nil) { () throws(AccountError) in
                _ = try flows.changePassword(username: username, old: old, new: new, caller: peer.caller())
                return .empty
            }
        case .setPassword(let selector, let password):
            return offload(id, op, sink, source) { () throws(AccountError) in
                _ = try flows.setPassword(WireMapping.ref(selector), password: password, caller: peer.caller())
                return .empty
            }
        case .listUsers(let limit, let page, let order, let descending):
            return offload(id, op, sink, source) { () throws(AccountError) in
                let result = try flows.listUsers(
                    limit: Int(limit), page: Int(page), order: WireMapping.order(order), descending: descending)
                return .users(total: UInt32(clamping: result.total), users: result.users.map(WireMapping.record))
            }
        case .updateUser(let selector, let email, let mask, let values):
            return offload(id, op, sink, source) { () throws(AccountError) in
                let result = try flows.updateUser(
                    WireMapping.ref(selector), email: email, setFlags: WireMapping.flags(mask),
                    flagValues: WireMapping.flags(values), caller: peer.caller())
                return .updated(user: WireMapping.record(result.user), changed: result.changed)
            }
        case .deleteUser(let selector):
            return offload(id, op, sink, source) { () throws(AccountError) in
                _ = try flows.deleteUser(WireMapping.ref(selector), caller: peer.caller())
                return .empty
            }
        case .revokeToken(let token):
            return offload(id, op, sink, source) { () throws(AccountError) in
                try flows.revokeToken(token)
                return .empty
            }
        case .revokeTokens(let selector):
            return offload(id, op, sink, source) { () throws(AccountError) in
                .count(UInt32(clamping: try flows.revokeTokens(WireMapping.ref(selector))))
            }
        case .issueToken(let selector, let label, let ttl):
            return offload(id, op, sink, source) { () throws(AccountError) in
                let issued = try flows.issueToken(
                    WireMapping.ref(selector), label: label, ttlSeconds: ttl, caller: peer.caller())
                return .issuedToken(IssuedToken(token: issued.token, expiresAt: issued.expiresAt))
            }
        case .resetPassword(let token, let password):
            return redeemToken(id, op, sink, peer) { () throws(AccountError) in
                try flows.resetPassword(token: token, password: password, caller: peer.caller())
                return .empty
            }
        case .requestVerify(let selector):
            return requestVerify(id, op, selector, peer: peer, sink: sink)
        case .verifyEmail(let token):
            return redeemToken(id, op, sink, peer) { () throws(AccountError) in
                .user(WireMapping.record(try flows.verifyEmail(token: token, caller: peer.caller())))
            }
        case .listEvents(let selector, let since, let limit):
            return offload(id, op, sink, source) { () throws(AccountError) in
                .events(
                    try flows.listEvents(selector.map(WireMapping.ref), since: since, limit: Int(limit)).map(
                        WireMapping.eventRecord))
            }

        case .data(let request):
            return handleData(id, op, request, peer: peer, sink: sink)
        case .linux(let request):
            return handleLinux(id, op, request, peer: peer, sink: sink)
        case .accountStatus(let username):
            return accountStatus(op, username: username, peer: peer)
        case .unlockUser(let selector):
            return unlockUser(id, op, selector, peer: peer, sink: sink)
        }
    }

    // MARK: - Helpers

    /// The refusal of an opcode this peer may not use, logged (counted) with the peer.
    func denial(_ op: Opcode, peer: PeerContext) -> Outcome {
        repeats.note(
            .warning, "permission denied", event: "permission_denied", source: "\(peer.source())",
            metadata: [
                "op": "\(op)", "peer_uid": "\(peer.credentials.uid)", "peer_pid": "\(peer.credentials.pid)",
            ])
        return .failure(.permissionDenied, "Permission denied: \(op) needs an admin peer")
    }

    /// The pool an opcode's work runs on, as its row of the opcode table says.
    func workerPool(for op: Opcode) -> WorkerPool {
        switch op.traits.runs {
        case .worker: return pool
        case .tokenWorker, .answeredThenTokenWorker: return tokenPool
        case .inline: preconditionFailure("\(op) is answered on the event loop")
        }
    }

    /// Runs `work` on the pool the opcode table gives `op`, in `source`'s
    /// share; answers "busy" (the only failure) when that share or the queue is full.
    func offload(
        _ id: UInt32, _ op: Opcode, _ sink: ResponseSink, _ source: RequestSource,
        _ work: @escaping @Sendable () throws(AccountError) -> Reply
    ) -> Outcome {
        let accepted = workerPool(for: op).submit(source: source) {
            sink.deliver(Self.encode(id, op, Self.answer(work)), requestID: id)
        }
        if accepted { return .deferred }
        repeats.note(
            .warning, "worker queue full; answered busy", event: "busy", source: "\(source)", metadata: ["op": "\(op)"])
        return .failure(.busy, AccountError(.busy).reason)
    }

    /// The outcome of `work`: its reply, or the status and reason of its error.
    static func answer(_ work: () throws(AccountError) -> Reply) -> Outcome {
        do {
            return .reply(try work())
        } catch {
            return .failure(WireMapping.status(error.code), error.reason)
        }
    }

    /// Appends the response frame of an answered request to `out`.
    static func append(_ id: UInt32, _ op: Opcode, _ outcome: Outcome, to out: inout WireWriter) {
        switch outcome {
        case .reply(let reply):
            ResponseMessage.appendSuccess(id: id, opcode: op, reply: reply, to: &out)
        case .failure(let status, let message):
            ResponseMessage.appendFailure(id: id, opcode: op.rawValue, status: status, message: message, to: &out)
        case .deferred:
            preconditionFailure("a deferred request has no answer yet")
        }
    }

    /// The response frame of an answered request, on its own.
    static func encode(_ id: UInt32, _ op: Opcode, _ outcome: Outcome) -> [UInt8] {
        var out = WireWriter(capacity: 128)
        append(id, op, outcome, to: &out)
        return out.bytes
    }
}
