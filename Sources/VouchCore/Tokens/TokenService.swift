import Logging
import VouchSecrets

/// Token lifetimes, in milliseconds.
public struct TokenSettings: Hashable, Sendable {
    public var sessionTTL: Int64
    /// Renew a session on use when less than half its lifetime is left.
    public var sessionSliding: Bool
    public var resetTTL: Int64
    public var verifyTTL: Int64

    public init(
        sessionTTL: Int64 = 24 * 3600 * 1000, sessionSliding: Bool = false, resetTTL: Int64 = 3600 * 1000,
        verifyTTL: Int64 = 3600 * 1000
    ) {
        self.sessionTTL = sessionTTL
        self.sessionSliding = sessionSliding
        self.resetTTL = resetTTL
        self.verifyTTL = verifyTTL
    }

    /// The lifetimes of the configuration (seconds there, milliseconds here).
    public init(config: VouchConfig) {
        self.init(
            sessionTTL: config.sessionTTL * 1000, sessionSliding: config.sessionSliding,
            resetTTL: config.resetTokenTTL * 1000, verifyTTL: config.verifyTokenTTL * 1000)
    }

    public func ttl(_ purpose: TokenPurpose) -> Int64 {
        switch purpose {
        case .session: return sessionTTL
        case .resetPassword: return resetTTL
        case .verifyEmail: return verifyTTL
        }
    }
}

/// Session, reset and verification tokens: issued with their digest written
/// to the store before they are handed out, verified from memory only.
public final class TokenService: Sendable {
    let store: any TokenStore
    let cache = TokenCache()
    let clock: any VouchClock
    let settings: TokenSettings
    let logger: Logger

    /// Longest lifetime an admin may give a token: one year.
    public static let maxTTL: Int64 = 366 * 24 * 3600 * 1000

    public init(store: any TokenStore, settings: TokenSettings, clock: any VouchClock = SystemClock(), logger: Logger) {
        self.store = store
        self.settings = settings
        self.clock = clock
        self.logger = logger
    }

    /// Loads every unexpired token into memory.
    public func load() throws(AccountError) {
        let started = ContinuousClock.now
        var builder = TokenCache.Builder()
        try store.loadTokens(now: clock.nowMillis(), reserve: { builder.reserve($0) }, each: { builder.add($0) })
        cache.replaceAll(with: builder)
        logger.info(
            "loaded tokens",
            metadata: ["count": "\(builder.count)", "ms": "\((ContinuousClock.now - started).milliseconds)"])
    }

    public var sessionCount: Int { cache.sessionCount }

    /// Issues a token of `purpose` for a user; the token is returned once and never stored.
    public func issue(
        _ purpose: TokenPurpose, userId: Int64, label: String = "", ttl: Int64? = nil, fingerprint: [UInt8]? = nil
    ) throws(AccountError) -> (token: SecretBytes, record: TokenRecord) {
        let (token, record) = try prepare(purpose, userId: userId, label: label, ttl: ttl, fingerprint: fingerprint)
        let stored = try store.insertToken(record)
        admit(stored)
        return (token, stored)
    }

    /// A new token and its record (id 0), not yet stored: for a caller that
    /// writes it in a transaction of its own, then ``admit(_:)``s it.
    public func prepare(
        _ purpose: TokenPurpose, userId: Int64, label: String = "", ttl: Int64? = nil, fingerprint: [UInt8]? = nil
    ) throws(AccountError) -> (token: SecretBytes, record: TokenRecord) {
        let lifetime = ttl ?? settings.ttl(purpose)
        guard lifetime > 0, lifetime <= Self.maxTTL else {
            throw AccountError.invalidInput("The token lifetime must be between 1 second and 366 days.")
        }
        guard label.unicodeScalars.count <= 100 else {
            throw AccountError.invalidInput("The token label is too long. (max 100)")
        }
        let (token, digest) = try TokenCodec.make(purpose)
        let now = clock.nowMillis()
        return (
            token,
            TokenRecord(
                id: 0, digest: digest, purpose: purpose, userId: userId, label: label, fingerprint: fingerprint,
                createdAt: now, expiresAt: now + lifetime)
        )
    }

    /// Makes a stored token usable (into memory).
    public func admit(_ record: TokenRecord) {
        cache.insert(record)
    }

    /// A live session: the user id and expiry.  Memory only; records the use
    /// (and renews a sliding session), flushed to the store in the background.
    public func verifySession(_ token: SecretBytes) -> (userId: Int64, expiresAt: Int64)? {
        guard TokenCodec.purpose(of: token) == .session else { return nil }
        let digest = TokenDigest(of: token)
        let now = clock.nowMillis()
        return cache.touchSession(digest, now: now, slidingTTL: settings.sessionSliding ? settings.sessionTTL : 0)
    }

    /// Takes a one-time token of `purpose`: it is deleted (store first) and
    /// returned if it was live; a wrong purpose, unknown or expired token throws `.invalidToken`.
    public func consume(_ token: SecretBytes, purpose: TokenPurpose) throws(AccountError) -> TokenRecord {
        guard TokenCodec.purpose(of: token) == purpose else { throw AccountError(.invalidToken) }
        let digest = TokenDigest(of: token)
        guard let record = cache.entry(digest), record.purpose == purpose else { throw AccountError(.invalidToken) }
        guard try store.deleteToken(id: record.id) else {
            cache.remove(digest)
            throw AccountError(.invalidToken)
        }
        // The store's delete is the authority: of two concurrent consumers only one deleted the row.
        cache.remove(digest)
        guard record.expiresAt > clock.nowMillis() else { throw AccountError(.invalidToken) }
        return record
    }

    /// Peeks at a one-time token without consuming it.
    public func peek(_ token: SecretBytes, purpose: TokenPurpose) -> TokenRecord? {
        guard TokenCodec.purpose(of: token) == purpose else { return nil }
        let digest = TokenDigest(of: token)
        guard let record = cache.entry(digest), record.purpose == purpose, record.expiresAt > clock.nowMillis() else {
            return nil
        }
        return record
    }

    /// Revokes one session token; false when it was not a live session
    /// (an expired one is left to `maintain` to purge).
    public func revoke(_ token: SecretBytes) throws(AccountError) -> Bool {
        guard TokenCodec.purpose(of: token) == .session else { return false }
        let digest = TokenDigest(of: token)
        guard let entry = cache.entry(digest), entry.purpose == .session, entry.expiresAt > clock.nowMillis() else {
            return false
        }
        try store.deleteToken(id: entry.id)
        cache.remove(digest)
        return true
    }

    /// Revokes a user's tokens of `purpose` (every purpose when nil); store first.
    @discardableResult
    public func revokeAll(userId: Int64, purpose: TokenPurpose? = .session) throws(AccountError) -> Int {
        try store.deleteTokens(userId: userId, purpose: purpose)
        return cache.removeAll(userId: userId, purpose: purpose)
    }

    /// Forgets a deleted user's tokens (the store removed them with the user).
    public func forget(userId: Int64) {
        cache.removeAll(userId: userId, purpose: nil)
    }

    /// A user's live sessions, oldest first (never the tokens).
    public func sessions(userId: Int64) -> [TokenRecord] {
        let now = clock.nowMillis()
        return cache.records(userId: userId).filter { $0.purpose == .session && $0.expiresAt > now }
            .sorted { $0.createdAt < $1.createdAt }
    }

    /// Background work: writes recorded uses, then purges expired tokens from memory and disk.
    public func maintain() {
        do {
            try store.updateTokenUsage(cache.takeDirty())
        } catch {
            logger.warning("could not record token use", metadata: ["error": "\(error)"])
        }
        let now = clock.nowMillis()
        do {
            let purged = try store.deleteExpiredTokens(now: now)
            let dropped = cache.removeExpired(now: now)
            if purged > 0 || dropped > 0 {
                logger.debug("purged expired tokens", metadata: ["database": "\(purged)", "memory": "\(dropped)"])
            }
        } catch {
            logger.warning("could not purge expired tokens", metadata: ["error": "\(error)"])
        }
    }
}
