import CSQLite

/// One compiled statement of a ``SQLiteDatabase``.  Finalized on deinit.
/// Parameter indexes start at 1, column indexes at 0 (as in SQLite).
public final class SQLiteStatement {
    private let handle: OpaquePointer
    private let database: SQLiteDatabase

    init(handle: OpaquePointer, database: SQLiteDatabase) {
        self.handle = handle
        self.database = database
    }

    deinit { sqlite3_finalize(handle) }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    public func bind(_ value: Int64?, at index: Int32) throws(StoreError) {
        let rc =
            if let value { sqlite3_bind_int64(handle, index, value) } else {
                sqlite3_bind_null(handle, index)
            }
        try check(rc)
    }

    public func bind(_ value: String?, at index: Int32) throws(StoreError) {
        let rc =
            if let value {
                sqlite3_bind_text(handle, index, value, -1, Self.transient)
            } else {
                sqlite3_bind_null(handle, index)
            }
        try check(rc)
    }

    public func bind(blob value: [UInt8]?, at index: Int32) throws(StoreError) {
        let rc =
            if let value {
                value.withUnsafeBytes { raw in
                    sqlite3_bind_blob(
                        handle, index, raw.baseAddress, Int32(raw.count), Self.transient)
                }
            } else {
                sqlite3_bind_null(handle, index)
            }
        try check(rc)
    }

    /// Binds each value in order from parameter 1.
    public func bind(_ values: SQLiteValue...) throws(StoreError) {
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            switch value {
            case .int(let v): try bind(v, at: index)
            case .text(let v): try bind(v, at: index)
            case .blob(let v): try bind(blob: v, at: index)
            case .null: try bind(Int64?.none, at: index)
            }
        }
    }

    /// Advances: true when a row is available, false when done.
    @discardableResult
    public func step() throws(StoreError) -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw database.error(rc, "step")
        }
    }

    /// Makes the statement ready to run again (bindings are kept).
    public func reset() {
        sqlite3_reset(handle)
    }

    public func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(handle, column) == SQLITE_NULL
    }

    public func int64(_ column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }

    public func optionalInt64(_ column: Int32) -> Int64? {
        isNull(column) ? nil : int64(column)
    }

    public func string(_ column: Int32) -> String? {
        guard let text = sqlite3_column_text(handle, column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// Calls `body` with a text column's UTF-8 in place (nil for NULL), valid only during the call.
    public func withText<R>(_ column: Int32, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        guard let text = sqlite3_column_text(handle, column) else { return body(nil) }
        return body(UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, column))))
    }

    public func blob(_ column: Int32) -> [UInt8]? {
        guard let raw = sqlite3_column_blob(handle, column) else {
            return isNull(column) ? nil : []
        }
        let count = Int(sqlite3_column_bytes(handle, column))
        return Array(UnsafeRawBufferPointer(start: raw, count: count))
    }

    /// Calls `body` with a blob column's bytes in place (empty for NULL), valid only during the call.
    public func withBlob<R>(_ column: Int32, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let raw = sqlite3_column_blob(handle, column)
        let count = raw == nil ? 0 : Int(sqlite3_column_bytes(handle, column))
        return body(UnsafeRawBufferPointer(start: raw, count: count))
    }

    private func check(_ rc: Int32) throws(StoreError) {
        guard rc == SQLITE_OK else { throw database.error(rc, "bind") }
    }
}

/// A value to bind.
public enum SQLiteValue: Sendable {
    case int(Int64?)
    case text(String?)
    case blob([UInt8]?)
    case null
}
