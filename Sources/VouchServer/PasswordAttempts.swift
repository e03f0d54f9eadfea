import VouchCore
import VouchProtocol

/// The password attempts of one connection from a privileged peer (PAM).
///
/// pam_vouch with `try_first_pass` first tries the password an earlier
/// module collected, and when vouchd refuses it asks the user and tries
/// again, on the same connection, for the same user and PAM context: one
/// login attempt, two password checks.  The first failed login of a
/// connection may be retried once like that: the retry takes no token of
/// its own, its failure costs nothing more, and its success gives the first
/// try's token back.  So one attempt costs its source at most one failure,
/// and none when the user gets in.
final class PasswordAttempts: Sendable {
    struct Key: Hashable, Sendable {
        var username: String
        var context: LoginContext
    }

    private struct State {
        var firstFailure: Key?
        var retried = false
    }

    private let state = Locked(State())

    /// Remembers the connection's first failed login.
    func recordFailure(_ key: Key) {
        state.withLock { s in
            if s.firstFailure == nil { s.firstFailure = key }
        }
    }

    /// Whether a login for `key` is the one retry of the first failed login.
    func claimRetry(_ key: Key) -> Bool {
        state.withLock { s in
            guard !s.retried, s.firstFailure == key else { return false }
            s.retried = true
            return true
        }
    }
}
