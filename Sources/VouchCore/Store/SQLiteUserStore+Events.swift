/// An event as the events table keeps it.
public struct StoredEvent: Hashable, Sendable {
    public var id: Int64
    public var time: Int64
    public var event: String
    public var userId: Int64?
    public var username: String
    public var peerUid: Int64
    public var peerPid: Int64
    public var detail: String

    public init(
        id: Int64, time: Int64, event: String, userId: Int64?, username: String, peerUid: Int64, peerPid: Int64,
        detail: String
    ) {
        self.id = id
        self.time = time
        self.event = event
        self.userId = userId
        self.username = username
        self.peerUid = peerUid
        self.peerPid = peerPid
        self.detail = detail
    }
}

/// Durable storage of the audit trail.
public protocol EventStore: Sendable {
    /// Appends events (their ids are ignored) in one transaction.
    func insertEvents(_ events: [StoredEvent]) throws(AccountError)
    /// Events at or after `since`, oldest first, of one user when `userId` is given.
    func listEvents(userId: Int64?, since: Int64, limit: Int) throws(AccountError) -> [StoredEvent]
}

extension SQLiteUserStore: EventStore {
    public func insertEvents(_ events: [StoredEvent]) throws(AccountError) {
        guard !events.isEmpty else { return }
        try withDatabase("record events") { db throws(StoreError) in
            try db.transaction { () throws(StoreError) in
                let stmt = try db.prepare(
                    """
                    INSERT INTO events (time, event, user_id, username, peer_uid, peer_pid, detail)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """)
                for e in events {
                    try stmt.bind(
                        .int(e.time), .text(e.event), .int(e.userId), .text(e.username), .int(e.peerUid),
                        .int(e.peerPid), .text(e.detail))
                    _ = try stmt.step()
                    stmt.reset()
                }
            }
        }
    }

    public func listEvents(userId: Int64?, since: Int64, limit: Int) throws(AccountError) -> [StoredEvent] {
        try withDatabase("list events") { db throws(StoreError) -> [StoredEvent] in
            let filter = userId == nil ? "" : "AND user_id = ?"
            let stmt = try db.prepare(
                """
                SELECT id, time, event, user_id, username, peer_uid, peer_pid, detail FROM events
                WHERE time >= ? \(filter) ORDER BY time, id LIMIT ?
                """)
            if let userId {
                try stmt.bind(.int(since), .int(userId), .int(Int64(limit)))
            } else {
                try stmt.bind(.int(since), .int(Int64(limit)))
            }
            var out: [StoredEvent] = []
            while try stmt.step() {
                out.append(
                    StoredEvent(
                        id: stmt.int64(0), time: stmt.int64(1), event: stmt.string(2) ?? "",
                        userId: stmt.optionalInt64(3), username: stmt.string(4) ?? "", peerUid: stmt.int64(5),
                        peerPid: stmt.int64(6), detail: stmt.string(7) ?? "{}"))
            }
            return out
        }
    }
}
