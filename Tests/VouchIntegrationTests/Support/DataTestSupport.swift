import Foundation
import VouchClient
import VouchProtocol

/// Runs a python3 script (stdlib only) with arguments.
func python(_ script: String, _ args: [String] = [], stdin: String? = nil) throws -> ProcessResult {
    try runProcess("/usr/bin/python3", ["-c", script] + args, stdin: stdin)
}

/// Runs the sqlite3 shell on `database`.
func sqlite3(_ database: String, _ sql: String) throws -> ProcessResult {
    try runProcess("/usr/bin/sqlite3", [database, sql])
}

/// `PRAGMA integrity_check` through a read-only connection (the daemon is stopped).
func integrityCheck(_ database: String) throws -> String {
    let r = try runProcess("/usr/bin/sqlite3", ["file:\(database)?mode=ro", "PRAGMA integrity_check"])
    return (r.stdout + r.stderr).trimmingCharacters(in: .whitespacesAndNewlines)
}

func fileBytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

/// The status of a refused call, nil when it succeeded.
func refusalError<T>(_ body: () async throws(VouchClientError) -> T) async -> VouchClientError? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error
    }
}

/// Mode bits of a file.
func fileMode(_ path: String) -> UInt32 {
    var st = stat()
    guard stat(path, &st) == 0 else { return 0 }
    return UInt32(st.st_mode & 0o7777)
}

/// libxcrypt hashes through ctypes (works whatever the python version).
let cryptPython = """
    import ctypes
    _c = ctypes.CDLL("libcrypt.so.1")
    _c.crypt.restype = ctypes.c_char_p
    _c.crypt_gensalt.restype = ctypes.c_char_p
    def xcrypt(prefix, password, cost=0):
        salt = _c.crypt_gensalt(prefix.encode(), cost, None, 0)
        return _c.crypt(password.encode(), salt).decode()

    """
