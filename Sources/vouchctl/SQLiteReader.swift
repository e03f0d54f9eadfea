import CSQLite
import Foundation

/// A read-only SQLite connection for reading other programs' databases
/// (import converters) and checking backups.  Never writes.
final class SQLiteReader {
    enum Value {
        case null
        case int(Int64)
        case real(Double)
        case text(String)
        case blob([UInt8])

        var text: String? {
            switch self {
            case .text(let s): return s
            case .int(let i): return String(i)
            case .real(let d): return String(d)
            case .blob(let b): return String(validating: b, as: UTF8.self)
            case .null: return nil
            }
        }

        /// SQLite booleans are integers; some tools store "t"/"true".
        var bool: Bool? {
            switch self {
            case .int(let i): return i != 0
            case .real(let d): return d != 0
            case .text(let s):
                switch s.lowercased() {
                case "1", "t", "true", "yes": return true
                case "0", "f", "false", "no": return false
                default: return nil
                }
            default: return nil
            }
        }
    }

    let path: String
    private var handle: OpaquePointer?

    init(path: String) throws {
        self.path = path
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw CLIFailure.usage("\(path): cannot read the file")
        }
        var db: OpaquePointer?
        let uri = "file:" + (path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path) + "?mode=ro"
        let rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nil)
        guard rc == SQLITE_OK, let db else {
            sqlite3_close_v2(db)
            throw CLIFailure.refused("\(path): cannot open as a SQLite database")
        }
        handle = db
        sqlite3_busy_timeout(db, 5000)
    }

    deinit { sqlite3_close_v2(handle) }

    /// Every row of `sql`.
    func rows(_ sql: String) throws -> [[Value]] {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &stmt, nil) == SQLITE_OK, let stmt else {
            throw CLIFailure.refused("\(path): \(String(cString: sqlite3_errmsg(handle)))")
        }
        defer { sqlite3_finalize(stmt) }
        var out: [[Value]] = []
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else {
                throw CLIFailure.refused("\(path): \(String(cString: sqlite3_errmsg(handle)))")
            }
            var row: [Value] = []
            for i in 0..<sqlite3_column_count(stmt) {
                switch sqlite3_column_type(stmt, i) {
                case SQLITE_INTEGER: row.append(.int(sqlite3_column_int64(stmt, i)))
                case SQLITE_FLOAT: row.append(.real(sqlite3_column_double(stmt, i)))
                case SQLITE_TEXT:
                    let n = Int(sqlite3_column_bytes(stmt, i))
                    let p = sqlite3_column_text(stmt, i)
                    row.append(.text(String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)))
                case SQLITE_BLOB:
                    let n = Int(sqlite3_column_bytes(stmt, i))
                    let p = sqlite3_column_blob(stmt, i)
                    row.append(.blob(p.map { Array(UnsafeRawBufferPointer(start: $0, count: n)) } ?? []))
                default: row.append(.null)
                }
            }
            out.append(row)
        }
        return out
    }

    /// The names of the columns of `table`.
    func columns(of table: String) throws -> Set<String> {
        Set(try rows("SELECT name FROM pragma_table_info('\(table)')").compactMap { $0.first?.text })
    }
}
