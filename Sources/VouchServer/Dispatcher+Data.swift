import Logging
import VouchCore
import VouchProtocol

extension Dispatcher {
    /// Backups, export and import (opcodes 0x50-0x56), all on the worker pool.
    func handleData(_ id: UInt32, _ op: Opcode, _ request: DataRequest, peer: PeerContext, sink: ResponseSink)
        -> Outcome
    {
        guard let data else {
            return .failure(.unknownOpcode, "\(op) is not supported by this server")
        }
        let logger = self.logger
        let owner = ObjectIdentifier(sink)
        return offload(id, op, sink, peer.source()) { () throws(AccountError) -> Reply in
            switch request {
            case .backupBegin:
                let backup = try data.beginBackup(owner: owner)
                logger.notice(
                    "backup started",
                    metadata: [
                        "event": "backup_started", "backup_id": "\(backup.id)", "bytes": "\(backup.size)",
                        "users": "\(backup.users)", "peer_uid": "\(peer.credentials.uid)",
                        "peer_pid": "\(peer.credentials.pid)",
                    ])
                return .data(
                    .backupStarted(backupID: backup.id, size: backup.size, users: UInt32(clamping: backup.users)))
            case .backupRead(let backupID, let offset, let maxBytes):
                return .data(.chunk(try data.readBackup(id: backupID, offset: offset, maxBytes: Int(maxBytes))))
            case .backupEnd(let backupID):
                try data.endBackup(id: backupID)
                return .data(.done)
            case .exportUsers(let afterID, let limit):
                let users = try self.flows.exportUsers(afterID: afterID, limit: Int(limit))
                if afterID == 0 {
                    logger.notice(
                        "users exported with their password hashes",
                        metadata: [
                            "event": "users_exported", "peer_uid": "\(peer.credentials.uid)",
                            "peer_pid": "\(peer.credentials.pid)",
                        ])
                }
                return .data(.exported(users.map(WireMapping.dataRecord)))
            case .importBegin(let onConflict, let dryRun):
                let policy = ImportConflictPolicy(rawValue: onConflict) ?? .fail
                return .data(
                    .importStarted(importID: try data.beginImport(policy: policy, dryRun: dryRun, owner: owner)))
            case .importAdd(let importID, let users):
                let total = try data.addToImport(id: importID, users.map(WireMapping.importedUser))
                return .data(.importStaged(total: UInt32(clamping: total)))
            case .importCommit(let importID):
                let outcome = try data.commitImport(id: importID)
                if outcome.written {
                    logger.notice(
                        "users imported",
                        metadata: [
                            "event": "users_imported", "created": "\(outcome.created)",
                            "updated": "\(outcome.updated)", "skipped": "\(outcome.skipped)",
                            "peer_uid": "\(peer.credentials.uid)", "peer_pid": "\(peer.credentials.pid)",
                        ])
                }
                return .data(
                    .imported(
                        ImportReport(
                            created: UInt32(clamping: outcome.created), updated: UInt32(clamping: outcome.updated),
                            skipped: UInt32(clamping: outcome.skipped), written: outcome.written,
                            problems: outcome.problems.map {
                                ImportProblemRecord(
                                    index: UInt32(clamping: $0.index), status: WireMapping.status($0.code),
                                    reason: $0.reason)
                            })))
            }
        }
    }

    /// The connection answered through `sink` went: its unfinished backups
    /// and imports are dropped, so their slots are free for others at once.
    func connectionClosed(_ sink: ResponseSink) {
        guard let data else { return }
        let dropped = data.release(owner: ObjectIdentifier(sink))
        if dropped > 0 {
            logger.notice("connection closed: unfinished backups or imports dropped", metadata: ["count": "\(dropped)"])
        }
    }

}
