import Logging

/// Records account events: a structured log record, a row in the events
/// table (written in batches off the request path), and the event's hooks
/// (run asynchronously on a bounded pool).  A failing or hanging hook never
/// blocks or fails a request; `before_delete` is the one hook that runs
/// synchronously and may veto.
public final class EventRecorder: Sendable {
    let store: any EventStore
    let hooks: HookRunner
    let hookPool: WorkerPool
    let writer: WorkerPool
    let logger: Logger
    private let pending = Locked<(events: [StoredEvent], flushScheduled: Bool)>(([], false))

    public init(store: any EventStore, hooks: HookRunner, hookConcurrency: Int, logger: Logger) {
        self.store = store
        self.hooks = hooks
        self.hookPool = WorkerPool(threads: max(1, hookConcurrency), queueLimit: 1024, name: "vouch-hooks")
        self.writer = WorkerPool(threads: 1, queueLimit: 4, name: "vouch-events")
        self.logger = logger
    }

    public func record(_ event: AccountEvent) {
        log(event)
        enqueue(event)
        let name = event.kind.rawValue
        guard !hooks.hooks(for: name).isEmpty else { return }
        let json = event.json(includeToken: true)
        let secrets = event.token.map { [$0] } ?? []
        if !hookPool.submit({ [hooks] in _ = hooks.run(event: name, json: json, redact: secrets) }) {
            logger.warning("hook queue full; hooks not run", metadata: ["hook_event": "\(name)"])
        }
    }

    /// Stored events, oldest first (`userId` nil: every user's).
    public func listEvents(userId: Int64?, since: Int64, limit: Int) throws(AccountError) -> [StoredEvent] {
        try store.listEvents(userId: userId, since: since, limit: limit)
    }

    /// Runs the `before_delete` hooks now; the first one that fails vetoes
    /// with the first line of its standard error as the reason.
    public func vetoBeforeDelete(_ event: AccountEvent) -> String? {
        let outcomes = hooks.run(event: AccountEventKind.beforeDelete.rawValue, json: event.json(includeToken: false))
        guard let refusal = outcomes.first(where: { !$0.succeeded }) else { return nil }
        let reason = refusal.stderr.firstLine
        if refusal.timedOut { return "A before_delete hook did not answer in time" }
        return reason.isEmpty ? "A before_delete hook refused the deletion" : reason
    }

    private func log(_ event: AccountEvent) {
        var metadata: Logger.Metadata = [
            "event": "\(event.kind.rawValue)", "user": "\(event.username)", "peer_uid": "\(event.caller.uid)",
            "peer_pid": "\(event.caller.pid)",
        ]
        if let user = event.user { metadata["user_id"] = "\(user.id)" }
        if !event.caller.service.isEmpty { metadata["service"] = "\(event.caller.service)" }
        if !event.caller.remoteHost.isEmpty { metadata["rhost"] = "\(event.caller.remoteHost)" }
        if !event.caller.tty.isEmpty { metadata["tty"] = "\(event.caller.tty)" }
        if !event.changed.isEmpty { metadata["changed"] = "\(event.changed.joined(separator: ","))" }
        if let reason = event.reason { metadata["reason"] = "\(reason)" }
        switch event.kind {
        case .failedLogin, .lockout: logger.notice("\(event.kind.rawValue)", metadata: metadata)
        default: logger.info("\(event.kind.rawValue)", metadata: metadata)
        }
    }

    private func enqueue(_ event: AccountEvent) {
        let row = StoredEvent(
            id: 0, time: event.time, event: event.kind.rawValue, userId: event.user?.id, username: event.username,
            peerUid: Int64(event.caller.uid), peerPid: Int64(event.caller.pid), detail: event.json(includeToken: false))
        let schedule = pending.withLock { p -> Bool in
            p.events.append(row)
            if p.flushScheduled { return false }
            p.flushScheduled = true
            return true
        }
        if schedule, !writer.submit({ [self] in flush() }) {
            pending.withLock { $0.flushScheduled = false }
        }
    }

    /// Writes every queued event in one transaction.
    public func flush() {
        let batch = pending.withLock { p -> [StoredEvent] in
            let batch = p.events
            p.events.removeAll(keepingCapacity: true)
            p.flushScheduled = false
            return batch
        }
        guard !batch.isEmpty else { return }
        do {
            try store.insertEvents(batch)
        } catch {
            logger.warning("could not record events", metadata: ["count": "\(batch.count)", "error": "\(error)"])
        }
    }

    /// Stops the pools after writing what is queued (hooks already running finish).
    public func shutdown() {
        writer.shutdown()
        flush()
        hookPool.shutdown()
    }
}
