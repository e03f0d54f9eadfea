import VouchProtocol

/// Backups, export and import (opcodes 0x50-0x56).  Admin peers only.
extension VouchClient {
    /// Takes a snapshot of the database on the daemon; read it with `backupRead`, then `backupEnd`.
    public func backupBegin() async throws(VouchClientError) -> (id: UInt32, size: Int64, users: UInt32) {
        guard case .data(.backupStarted(let id, let size, let users)) = try await send(.data(.backupBegin)) else {
            throw unexpected()
        }
        return (id, size, users)
    }

    public func backupRead(id: UInt32, offset: Int64, maxBytes: UInt32 = 65536) async throws(VouchClientError)
        -> [UInt8]
    {
        let reply = try await send(.data(.backupRead(backupID: id, offset: offset, maxBytes: maxBytes)))
        guard case .data(.chunk(let bytes)) = reply else { throw unexpected() }
        return bytes
    }

    public func backupEnd(id: UInt32) async throws(VouchClientError) {
        _ = try await send(.data(.backupEnd(backupID: id)))
    }

    /// Up to `limit` users with an id above `afterID`, by id, with their password hashes.
    public func exportUsers(afterID: Int64, limit: UInt32 = 500) async throws(VouchClientError) -> [UserDataRecord] {
        guard case .data(.exported(let users)) = try await send(.data(.exportUsers(afterID: afterID, limit: limit)))
        else { throw unexpected() }
        return users
    }

    /// `onConflict`: 0 skip, 1 update, 2 fail.
    public func importBegin(onConflict: UInt8, dryRun: Bool) async throws(VouchClientError) -> UInt32 {
        let reply = try await send(.data(.importBegin(onConflict: onConflict, dryRun: dryRun)))
        guard case .data(.importStarted(let id)) = reply else { throw unexpected() }
        return id
    }

    /// Returns the number of records staged so far.
    @discardableResult
    public func importAdd(id: UInt32, users: [UserDataRecord]) async throws(VouchClientError) -> UInt32 {
        guard case .data(.importStaged(let total)) = try await send(.data(.importAdd(importID: id, users: users)))
        else { throw unexpected() }
        return total
    }

    public func importCommit(id: UInt32) async throws(VouchClientError) -> ImportReport {
        guard case .data(.imported(let report)) = try await send(.data(.importCommit(importID: id))) else {
            throw unexpected()
        }
        return report
    }
}
