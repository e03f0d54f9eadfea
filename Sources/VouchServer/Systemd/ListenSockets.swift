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
        let count = sd_listen_fds(1)
        if count < 0 {
            throw ListenSocketError("sd_listen_fds failed: \(String(cString: strerror(-count)))")
        }
        if count == 0 { return nil }
        let first = SD_LISTEN_FDS_START
        guard count == 1 else {
            for fd in first..<(first + count) { close(fd) }
            throw ListenSocketError(
                "expected 1 socket from systemd, got \(count) (check ListenStream= in vouchd.socket)")
        }
        let rc = sd_is_socket_unix(first, Int32(SOCK_STREAM.rawValue), 1, nil, 0)
        guard rc > 0 else {
            close(first)
            if rc < 0 {
                throw ListenSocketError("cannot inspect the socket from systemd: \(String(cString: strerror(-rc)))")
            }
            throw ListenSocketError(
                "the socket from systemd is not a listening AF_UNIX stream socket (use ListenStream=/path and Accept=no)"
            )
        }
        return first
    }
}
