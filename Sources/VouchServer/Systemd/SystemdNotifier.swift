import CSystemd
import Glibc

/// Tells systemd about the daemon's state through `sd_notify(3)`
/// (`Type=notify` services).  Every call is a no-op when `NOTIFY_SOCKET`
/// is unset, e.g. when vouchd runs outside systemd.
///
/// A reload goes: `reloading()`, re-read the configuration, `ready(status:)`.
/// Shutdown: `stopping()` first.  When `watchdogInterval` is not nil, call
/// `watchdogPing()` at least that often (it is half of `WatchdogSec=`).
public struct SystemdNotifier: Sendable {
    /// The ping period: half of `WATCHDOG_USEC`, or nil when systemd expects
    /// no watchdog pings from this process.
    public let watchdogInterval: Duration?

    public init() {
        var usec: UInt64 = 0
        if sd_watchdog_enabled(0, &usec) > 0, usec > 0 {
            watchdogInterval = .microseconds(Int64(clamping: usec / 2))
        } else {
            watchdogInterval = nil
        }
    }

    /// Whether a notification socket is set (`NOTIFY_SOCKET`).
    public var isEnabled: Bool {
        getenv("NOTIFY_SOCKET") != nil
    }

    /// Start-up or reload finished: `READY=1`, with an optional `STATUS=`.
    public func ready(status: String? = nil) {
        if let status {
            send("READY=1\nSTATUS=\(Self.oneLine(status))")
        } else {
            send("READY=1")
        }
    }

    /// A free-form status line shown by `systemctl status`: `STATUS=...`.
    public func status(_ text: String) {
        send("STATUS=\(Self.oneLine(text))")
    }

    /// A configuration reload began: `RELOADING=1` with `MONOTONIC_USEC=`.
    /// Call `ready(status:)` when it is done.
    public func reloading() {
        send("RELOADING=1\nMONOTONIC_USEC=\(Self.monotonicMicroseconds())")
    }

    /// Shutdown began: `STOPPING=1`.
    public func stopping() {
        send("STOPPING=1")
    }

    /// Keep-alive for `WatchdogSec=`: `WATCHDOG=1`.
    public func watchdogPing() {
        send("WATCHDOG=1")
    }

    /// Sends raw `KEY=value` lines.  Returns true when systemd was told,
    /// false when there is no `NOTIFY_SOCKET` or sending failed.
    @discardableResult
    public func send(_ state: String) -> Bool {
        guard isEnabled else { return false }
        return sd_notify(0, state) > 0
    }

    /// `clock_gettime(CLOCK_MONOTONIC)` in microseconds.
    static func monotonicMicroseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
    }

    /// A status must stay on one line: newlines would start new assignments.
    static func oneLine(_ text: String) -> String {
        String(text.map { $0 == "\n" || $0 == "\r" || $0 == "\r\n" ? " " : $0 })
    }
}
