import CSystemd
import Glibc
import Logging

/// Why a socket passed by systemd (`LISTEN_FDS`) cannot be used.
public struct ListenSocketError: Error, Hashable, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Sockets passed by systemd socket activation (`vouchd.socket`).
public enum ListenSockets {
    /// The listening Unix stream socket systemd passed (`sd_listen_fds(3)`),
    /// or nil when none was passed or what was passed is unusable; the
    /// latter is logged as an error.  The `LISTEN_*` variables are unset so
    /// that hooks do not inherit them; the descriptor is close-on-exec.
    /// Hand the descriptor to NIO with `ServerBootstrap.withBoundSocket(_:)`.
    public static func inheritedUnixSocket() -> Int32? {
        do {
            return try inheritUnixSocket()
        } catch {
            Logger(label: "vouchd.systemd").error("Ignoring sockets passed by systemd: \(error.description)")
            return nil
        }
    }

    /// Like `inheritedUnixSocket()` but throws when systemd passed
    /// descriptors that are not exactly one listening `AF_UNIX` stream
    /// socket; nil means systemd passed none.  Descriptors that are not
    /// used are closed.
    public static func inheritUnixSocket() throws(ListenSocketError) -> Int32? {
        try inheritUnixSockets(userdbPath: nil).main
    }

    /// The sockets systemd passed: the main socket and, when `userdbPath`
    /// is given, the io.systemd.UserDatabase socket bound there (from
    /// vouchd-userdb.socket), told apart by their paths.
    /// Throws when a descriptor is not a listening `AF_UNIX` stream socket
    /// or there are more than these two; unused descriptors are closed.
    public static func inheritUnixSockets(userdbPath: String?) throws(ListenSocketError) -> (
        main: Int32?, userdb: Int32?
    ) {
        let count = sd_listen_fds(1)
        if count < 0 {
            throw ListenSocketError("sd_listen_fds failed: \(String(cString: strerror(-count)))")
        }
        if count == 0 { return (nil, nil) }
        let first = SD_LISTEN_FDS_START
        let expected = userdbPath == nil ? 1 : 2
        guard count <= expected else {
            for fd in first..<(first + count) { close(fd) }
            throw ListenSocketError(
                "expected \(expected == 1 ? "1 socket" : "at most 2 sockets") from systemd, got \(count) (check ListenStream= in vouchd.socket and vouchd-userdb.socket)"
            )
        }
        var main: Int32?
        var userdb: Int32?
        for fd in first..<(first + count) {
            let rc = sd_is_socket_unix(fd, Int32(SOCK_STREAM.rawValue), 1, nil, 0)
            guard rc > 0 else {
                for fd in first..<(first + count) { close(fd) }
                if rc < 0 {
                    throw ListenSocketError("cannot inspect the socket from systemd: \(String(cString: strerror(-rc)))")
                }
                throw ListenSocketError(
                    "the socket from systemd is not a listening AF_UNIX stream socket (use ListenStream=/path and Accept=no)"
                )
            }
            if let userdbPath, sd_is_socket_unix(fd, Int32(SOCK_STREAM.rawValue), 1, userdbPath, 0) > 0 {
                userdb = fd
            } else if main == nil {
                main = fd
            } else {
                for fd in first..<(first + count) { close(fd) }
                throw ListenSocketError("two sockets from systemd, and neither is userdb_socket \(userdbPath ?? "")")
            }
        }
        return (main, userdb)
    }
}
