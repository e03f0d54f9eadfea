/// Settings given on vouchd's command line (`--socket`, `--database`,
/// `--log-level`): they win over the config file, at start and at every
/// reload, so a reload compares and applies the effective values.
public struct ConfigOverrides: Sendable, Hashable {
    public var socketPath: String?
    public var databasePath: String?
    /// A level name already checked by the caller.
    public var logLevel: String?

    public init(socketPath: String? = nil, databasePath: String? = nil, logLevel: String? = nil) {
        self.socketPath = socketPath
        self.databasePath = databasePath
        self.logLevel = logLevel
    }

    /// `config` with the overrides applied.
    public func applied(to config: VouchConfig) -> VouchConfig {
        var out = config
        if let socketPath { out.socketPath = socketPath }
        if let databasePath { out.databasePath = databasePath }
        if let logLevel { out.logLevel = logLevel }
        return out
    }
}
