import Glibc

/// The listening socket's file: whether a daemon already answers there, and
/// which file is ours.
///
/// A socket file left by a daemon that died (nothing listening) is replaced;
/// one where a daemon answers is never taken over, whatever database that
/// daemon serves.  On exit a daemon removes the file only if it is still the
/// one it bound (same device and inode): another daemon may have replaced it.
enum SocketFile {
    /// The file's identity.
    struct Identity: Equatable {
        var device: UInt64
        var inode: UInt64
    }

    enum State: Equatable {
        /// Nothing at the path.
        case absent
        /// A socket file nobody listens on (a daemon that died without removing it).
        case stale
        /// A daemon accepts connections there.
        case live
        /// Something that is not a socket, or a socket that could not be probed (errno).
        case unusable(String)
    }

    static func identity(of path: String) -> Identity? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return Identity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    /// A non-blocking, close-on-exec Unix stream socket and the address of `path`.
    private static func socketAndAddress(_ path: String) -> (Int32, sockaddr_un)? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            errno = ENAMETOOLONG
            return nil
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        return fd >= 0 ? (fd, address) : nil
    }

    private static func withAddress(_ address: sockaddr_un, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32)
        -> Int32
    {
        withUnsafePointer(to: address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    /// Probes `path` with `connect()` (non-blocking: a full backlog still counts as live).
    static func state(of path: String) -> State {
        var st = stat()
        guard lstat(path, &st) == 0 else { return errno == ENOENT ? .absent : .unusable("errno \(errno)") }
        guard st.st_mode & S_IFMT == S_IFSOCK else { return .unusable("it exists and is not a socket") }
        guard let (fd, address) = socketAndAddress(path) else { return .unusable("socket(): errno \(errno)") }
        defer { close(fd) }
        if withAddress(address, { connect(fd, $0, $1) }) == 0 { return .live }
        switch errno {
        case EAGAIN, EINPROGRESS: return .live
        case ECONNREFUSED: return .stale
        case ENOENT: return .absent
        default: return .unusable("connect(): errno \(errno)")
        }
    }

    /// Makes `path` free to bind: removes a stale socket file; refuses a live
    /// one or anything else, naming the path.
    static func prepareToBind(_ path: String) throws(ServerStartupError) {
        switch state(of: path) {
        case .absent:
            return
        case .stale:
            guard unlink(path) == 0 || errno == ENOENT else {
                throw ServerStartupError(
                    description: "cannot remove the stale socket \(path): errno \(errno)")
            }
        case .live:
            throw ServerStartupError(
                description: "another daemon is answering on \(path); refusing to take over its socket "
                    + "(stop it first, or give this one another socket_path / --socket)")
        case .unusable(let why):
            throw ServerStartupError(description: "cannot listen on \(path): \(why)")
        }
    }

    /// A listening socket bound to `path` (which must be free: see
    /// ``prepareToBind(_:)``).  Bound here rather than by NIO, which would
    /// unlink the path when the channel closes, whoever's file it is by then.
    static func bindListening(_ path: String, backlog: Int32) throws(ServerStartupError) -> Int32 {
        guard let (fd, address) = socketAndAddress(path) else {
            throw ServerStartupError(description: "cannot listen on \(path): errno \(errno)")
        }
        guard withAddress(address, { bind(fd, $0, $1) }) == 0, listen(fd, backlog) == 0 else {
            let error = errno
            close(fd)
            throw ServerStartupError(
                description: "cannot listen on \(path): \(String(cString: strerror(error))) (errno \(error))")
        }
        return fd
    }

    /// Removes `path` if it is still the file identified by `identity`.
    static func remove(_ path: String, ifStill identity: Identity?) -> Bool {
        guard let identity, Self.identity(of: path) == identity else { return false }
        return unlink(path) == 0
    }
}
