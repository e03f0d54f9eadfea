import Glibc
import Logging

/// The open-file limit against `max_connections`: every connection is a
/// descriptor, and a daemon that runs out of them fails to accept without a
/// word (EMFILE), refusing root as readily as anyone.
enum FileLimit {
    /// Descriptors vouchd needs besides client connections: the database with
    /// its WAL and SHM, the journal, the listening socket, the event loop,
    /// hook pipes, with room to spare.
    static let overhead = 64

    /// `maxConnections` if the open-file limit fits it (raising the soft
    /// limit up to the hard one if need be), else the most that fit, with a warning.
    static func fitConnections(_ maxConnections: Int, logger: Logger) -> Int {
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return maxConnections }
        let needed = rlim_t(maxConnections + overhead)
        if limit.rlim_cur >= needed { return maxConnections }
        let before = limit.rlim_cur
        var raised = limit
        raised.rlim_cur = min(needed, limit.rlim_max)
        if raised.rlim_cur > limit.rlim_cur, setrlimit(resource, &raised) == 0 {
            limit = raised
            logger.info(
                "raised the open-file limit for max_connections",
                metadata: ["from": "\(before)", "to": "\(limit.rlim_cur)", "max_connections": "\(maxConnections)"])
        }
        if limit.rlim_cur >= needed { return maxConnections }
        let fitted = max(1, Int(limit.rlim_cur) - overhead)
        logger.warning(
            "max_connections lowered to fit the open-file limit (raise LimitNOFILE= in vouchd.service)",
            metadata: [
                "event": "fd_limit", "max_connections": "\(maxConnections)", "lowered_to": "\(fitted)",
                "nofile_soft": "\(limit.rlim_cur)", "nofile_hard": "\(limit.rlim_max)",
            ])
        return fitted
    }
}
