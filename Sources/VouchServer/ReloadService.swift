import Logging
import ServiceLifecycle
import UnixSignals
import VouchCore

/// SIGHUP: re-read the config file and apply what can change at runtime
/// (the log level, password policy and hashing cost); report what cannot.
/// The command line's overrides win over the file, as at start: effective
/// values are compared.  Connections are not touched.
final class ReloadService: Service {
    let configPath: String?
    let overrides: ConfigOverrides
    let current: VouchConfig
    let apply: @Sendable (VouchConfig) -> Void
    let notifier: SystemdNotifier
    let logger: Logger

    init(
        configPath: String?, overrides: ConfigOverrides, current: VouchConfig, notifier: SystemdNotifier,
        logger: Logger, apply: @escaping @Sendable (VouchConfig) -> Void
    ) {
        self.configPath = configPath
        self.overrides = overrides
        self.current = current
        self.notifier = notifier
        self.logger = logger
        self.apply = apply
    }

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        var active = current
        for await _ in signals.cancelOnGracefulShutdown() {
            notifier.reloading()
            active = reload(from: active)
            notifier.ready(status: "serving")
        }
    }

    private func reload(from active: VouchConfig) -> VouchConfig {
        guard let configPath else {
            logger.notice("reload: no config file; nothing to re-read")
            return active
        }
        let loaded: VouchConfig
        do {
            loaded = overrides.applied(to: try ConfigLoader.load(path: configPath))
        } catch {
            logger.error("reload failed; keeping the running configuration", metadata: ["error": "\(error)"])
            return active
        }
        // Applied at once: the log level, the password policy, the hashing cost,
        // the lockout policy and the rate limits.
        var next = active
        next.logLevel = loaded.logLevel
        next.passwordMinLength = loaded.passwordMinLength
        next.passwordRefuseIdentity = loaded.passwordRefuseIdentity
        next.argon2 = loaded.argon2
        next.lockoutDeny = loaded.lockoutDeny
        next.lockoutFailInterval = loaded.lockoutFailInterval
        next.lockoutUnlockTime = loaded.lockoutUnlockTime
        next.lockoutExemptSuperuser = loaded.lockoutExemptSuperuser
        next.loginFailuresPerMinute = loaded.loginFailuresPerMinute
        next.tokenRequestsPerMinute = loaded.tokenRequestsPerMinute
        next.tokenRequestsPerAccountPerHour = loaded.tokenRequestsPerAccountPerHour
        next.tokenFailuresPerMinute = loaded.tokenFailuresPerMinute
        // Everything else needs a restart: kept, and said so.
        let kept = Self.differingKeys(next, loaded)
        if !kept.isEmpty {
            logger.warning(
                "reload: these keys need a restart; keeping their running values",
                metadata: ["keys": "\(kept.joined(separator: ","))"])
        }
        apply(next)
        logger.notice("configuration reloaded", metadata: ["file": "\(configPath)"])
        return next
    }

    /// Keys whose rendered values differ between two configurations.
    static func differingKeys(_ a: VouchConfig, _ b: VouchConfig) -> [String] {
        func pairs(_ c: VouchConfig) -> [String: String] {
            var out: [String: String] = [:]
            for line in ConfigLoader.render(c).split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1).map {
                    String($0.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
                }
                if parts.count == 2 { out[parts[0]] = parts[1] }
            }
            return out
        }
        let pa = pairs(a)
        let pb = pairs(b)
        return ConfigLoader.keyNames.filter { pa[$0] != pb[$0] }
    }
}
