import Glibc

/// An exclusive lock on a database, held by one vouchd process for its
/// whole life: `flock(2)` on `<database>.lock`, with the holder's pid
/// written in the file.
///
/// The kernel releases the lock when the process exits, even after
/// `kill -9`, so a stale lock file never blocks a restart; the file itself
/// is left in place (removing it would race with a process taking it).
public final class DatabaseLock: Sendable {
    /// The lock file.
    public let path: String
    private let fd: Int32

    /// The lock file of the database at `databasePath`.
    public static func lockPath(for databasePath: String) -> String { databasePath + ".lock" }

    /// Takes the lock or throws `.busy` naming the process that holds it.
    public init(databasePath: String) throws(StoreError) {
        let path = Self.lockPath(for: databasePath)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            let err = errno
            let kind: StoreError.Kind =
                switch err {
                case EROFS, EACCES, EPERM: .readOnly
                case ENOSPC, EDQUOT: .diskFull
                default: .cannotOpen
                }
            throw StoreError(
                kind, message: "cannot open the lock file \(path): \(String(cString: strerror(err)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let err = errno
            let holder = Self.readPID(fd)
            Glibc.close(fd)
            if err == EWOULDBLOCK {
                let who = holder.map { "vouchd pid \($0)" } ?? "another process"
                throw StoreError(
                    .busy,
                    message: "database \(databasePath) is in use by \(who) (lock file \(path)); "
                        + "refusing to start a second vouchd on it")
            }
            throw StoreError(
                .cannotOpen, message: "cannot lock \(path): \(String(cString: strerror(err)))")
        }
        // Ours: record our pid for whoever finds the lock taken.
        _ = fchmod(fd, 0o600)
        _ = ftruncate(fd, 0)
        let line = Array("\(getpid())\n".utf8)
        _ = line.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        self.path = path
        self.fd = fd
    }

    deinit {
        Glibc.close(fd)
    }

    /// The pid written in the lock file, if any.
    private static func readPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        let digits = buffer[0..<n].prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        return Int32(String(decoding: digits, as: UTF8.self))
    }
}
