import Logging
import VouchCore
import VouchProtocol

/// Who sent a request, as far as the daemon needs to know.
public struct PeerContext: Sendable {
    public var credentials: PeerCredentials
    public var isAdmin: Bool
    public init(credentials: PeerCredentials, isAdmin: Bool) {
        self.credentials = credentials
        self.isAdmin = isAdmin
    }
}

/// Receives responses finished on a worker thread.
public protocol ResponseSink: AnyObject, Sendable {
    func deliver(_ frame: [UInt8], requestID: UInt32)
}

/// Turns a decoded request into a response frame.  Plain logic, no I/O:
/// fast requests are answered from memory before `handle` returns; requests
/// that hash a password or write to the database run on the worker pool and
/// are answered through the connection's `ResponseSink`.
public final class Dispatcher: Sendable {
    public enum Outcome {
        case reply([UInt8])
        case deferred
    }

    let accounts: AccountService
    let pool: WorkerPool
    let metrics: ServerMetrics
    let authorizer: Authorizer
    let maxFrameBytes: Int
    let logger: Logger
    let rateLimiter: LoginRateLimiter

    public init(
        accounts: AccountService, pool: WorkerPool, metrics: ServerMetrics, authorizer: Authorizer,
        maxFrameBytes: Int, logger: Logger, rateLimiter: LoginRateLimiter = LoginRateLimiter(failuresPerMinute: 0)
    ) {
        self.rateLimiter = rateLimiter
        self.accounts = accounts
        self.pool = pool
        self.metrics = metrics
        self.authorizer = authorizer
        self.maxFrameBytes = maxFrameBytes
        self.logger = logger
    }

    public func handle(id: UInt32, request: Request, peer: PeerContext, sink: ResponseSink) -> Outcome {
        let op = request.opcode
        guard authorizer.allows(op, isAdmin: peer.isAdmin) else {
            logger.warning(
                "permission denied",
                metadata: [
                    "event": "permission_denied", "op": "\(op)", "peer_uid": "\(peer.credentials.uid)",
                    "peer_pid": "\(peer.credentials.pid)",
                ])
            return .reply(Self.failure(id, op, .permissionDenied, "Permission denied: \(op) needs an admin peer"))
        }
        switch request {
        case .hello:
            let hello = ServerHello(
                minVersion: Frame.minProtocolVersion, maxVersion: Frame.protocolVersion,
                maxFrameBytes: UInt32(maxFrameBytes), serverVersion: VouchVersion.string)
            return .reply(ResponseMessage.encodeSuccess(id: id, opcode: op, reply: .hello(hello)))
        case .ping:
            return .reply(ResponseMessage.encodeSuccess(id: id, opcode: op, reply: .empty))
        case .status:
            let status = ServerStatus(
                serverVersion: VouchVersion.string, uptimeMillis: metrics.uptimeMillis,
                users: Int64(accounts.userCount), tokens: 0, requestsServed: metrics.requests,
                connections: metrics.openConnections)
            return .reply(ResponseMessage.encodeSuccess(id: id, opcode: op, reply: .status(status)))
        case .getUser(let selector):
            return .reply(
                Self.answer(id, op) { () throws(AccountError) in
                    .user(WireMapping.record(try accounts.user(WireMapping.ref(selector))))
                })

        case .createUser(let username, let email, let password, let flags):
            return offload(id, op, sink) { () throws(AccountError) in
                let user = try self.accounts.createUser(
                    username: username, email: email, password: password, flags: WireMapping.flags(flags))
                self.audit("user_created", user: user, peer: peer)
                return .user(WireMapping.record(user))
            }
        case .login(let username, let password, _, let context):
            if let refusal = rateLimitRefusal(id, op, peer) { return refusal }
            return offload(id, op, sink) { () throws(AccountError) in
                do throws(AccountError) {
                    let user = try self.accounts.login(username: username, password: password)
                    self.audit("login", user: user, peer: peer, context: context)
                    return .login(user: WireMapping.record(user), token: nil)
                } catch {
                    self.chargeFailure(error, peer: peer)
                    self.logger.notice(
                        "login refused",
                        metadata: [
                            "event": "login_failed", "reason": "\(error.code)", "peer_uid": "\(peer.credentials.uid)",
                            "peer_pid": "\(peer.credentials.pid)", "service": "\(context.service)",
                        ])
                    throw error
                }
            }
        case .changePassword(let username, let old, let new):
            if let refusal = rateLimitRefusal(id, op, peer) { return refusal }
            return offload(id, op, sink) { () throws(AccountError) in
                let user: User
                do throws(AccountError) {
                    user = try self.accounts.changePassword(username: username, old: old, new: new)
                } catch {
                    self.chargeFailure(error, peer: peer)
                    throw error
                }
                self.audit("password_changed", user: user, peer: peer)
                return .empty
            }
        case .setPassword(let selector, let password):
            return offload(id, op, sink) { () throws(AccountError) in
                let user = try self.accounts.setPassword(WireMapping.ref(selector), password: password)
                self.audit("password_set", user: user, peer: peer)
                return .empty
            }
        case .listUsers(let limit, let page, let order, let descending):
            return offload(id, op, sink) { () throws(AccountError) in
                let result = try self.accounts.listUsers(
                    limit: Int(limit), page: Int(page), order: WireMapping.order(order), descending: descending)
                return .users(total: UInt32(clamping: result.total), users: result.users.map(WireMapping.record))
            }
        case .updateUser(let selector, let email, let mask, let values):
            return offload(id, op, sink) { () throws(AccountError) in
                let result = try self.accounts.updateUser(
                    WireMapping.ref(selector), email: email, setFlags: WireMapping.flags(mask),
                    flagValues: WireMapping.flags(values))
                if !result.changed.isEmpty {
                    self.audit("user_updated", user: result.user, peer: peer, detail: result.changed.joined(separator: ","))
                }
                return .updated(user: WireMapping.record(result.user), changed: result.changed)
            }
        case .deleteUser(let selector):
            return offload(id, op, sink) { () throws(AccountError) in
                let user = try self.accounts.deleteUser(WireMapping.ref(selector))
                self.audit("user_deleted", user: user, peer: peer)
                return .empty
            }

        case .accountStatus(let username):
            return .reply(accountStatus(id, op, username: username))
        case .unlockUser(let selector):
            return unlockUser(id, op, selector, peer: peer, sink: sink)

        case .verifyToken, .revokeToken, .revokeTokens, .issueToken, .listTokens, .forgotPassword,
            .resetPassword, .requestVerify, .verifyEmail, .listEvents:
            return .reply(Self.failure(id, op, .unknownOpcode, "\(op) is not supported by this server"))
        }
    }

    // MARK: - Helpers

    /// Runs `work` on the worker pool; answers "busy" when its queue is full.
    func offload(
        _ id: UInt32, _ op: Opcode, _ sink: ResponseSink, _ work: @escaping @Sendable () throws(AccountError) -> Reply
    ) -> Outcome {
        let accepted = pool.submit {
            sink.deliver(Self.answer(id, op, work), requestID: id)
        }
        if accepted { return .deferred }
        logger.warning("worker queue full", metadata: ["event": "busy", "op": "\(op)"])
        return .reply(Self.failure(id, op, .busy, AccountError(.busy).reason))
    }

    static func answer(_ id: UInt32, _ op: Opcode, _ work: () throws(AccountError) -> Reply) -> [UInt8] {
        do {
            return ResponseMessage.encodeSuccess(id: id, opcode: op, reply: try work())
        } catch {
            return failure(id, op, WireMapping.status(error.code), error.reason)
        }
    }

    static func failure(_ id: UInt32, _ op: Opcode, _ status: Status, _ message: String) -> [UInt8] {
        ResponseMessage.encodeFailure(id: id, opcode: op.rawValue, status: status, message: message)
    }

    func audit(
        _ event: String, user: User, peer: PeerContext, context: LoginContext? = nil, detail: String? = nil
    ) {
        var metadata: Logger.Metadata = [
            "event": "\(event)", "user": "\(user.username)", "user_id": "\(user.id)",
            "peer_uid": "\(peer.credentials.uid)", "peer_pid": "\(peer.credentials.pid)",
        ]
        if let context, !context.service.isEmpty { metadata["service"] = "\(context.service)" }
        if let context, !context.remoteHost.isEmpty { metadata["rhost"] = "\(context.remoteHost)" }
        if let detail { metadata["detail"] = "\(detail)" }
        logger.info("\(event)", metadata: metadata)
    }
}
