/// One live token as the token table stores it: fixed size and free of
/// references, so a million tokens are one contiguous allocation.  The label
/// and fingerprint, which most tokens lack, live in side tables.
struct PackedToken: BitwiseCopyable, Sendable {
    struct Flags: OptionSet, BitwiseCopyable, Sendable {
        let rawValue: UInt8
        /// lastUsed or expiresAt changed in memory since the last flush.
        static let dirty = Flags(rawValue: 1 << 0)
        static let hasLastUsed = Flags(rawValue: 1 << 1)
        static let hasLabel = Flags(rawValue: 1 << 2)
        static let hasFingerprint = Flags(rawValue: 1 << 3)
    }

    /// No slot: the end of a user's list.
    static let noSlot = UInt32.max

    var digest: TokenDigest
    var id: Int64
    var userId: Int64
    var createdAt: Int64
    var expiresAt: Int64
    /// Meaningful only with `.hasLastUsed`.
    private var lastUsedValue: Int64
    /// The neighbours in the user's list (slots), or `noSlot`.
    var prev: UInt32
    var next: UInt32
    var purpose: TokenPurpose
    var flags: Flags

    init(_ r: TokenRecord) {
        digest = r.digest
        id = r.id
        userId = r.userId
        createdAt = r.createdAt
        expiresAt = r.expiresAt
        lastUsedValue = r.lastUsed ?? 0
        prev = Self.noSlot
        next = Self.noSlot
        purpose = r.purpose
        flags = []
        if r.lastUsed != nil { flags.insert(.hasLastUsed) }
        if !r.label.isEmpty { flags.insert(.hasLabel) }
        if r.fingerprint != nil { flags.insert(.hasFingerprint) }
    }

    var lastUsed: Int64? {
        get { flags.contains(.hasLastUsed) ? lastUsedValue : nil }
        set {
            lastUsedValue = newValue ?? 0
            if newValue == nil { flags.remove(.hasLastUsed) } else { flags.insert(.hasLastUsed) }
        }
    }

    /// Records a use of a live session at `now`, renewing it when less than
    /// half of `slidingTTL` is left (0: no renewal); false when it is not a live session.
    mutating func touchSession(now: Int64, slidingTTL: Int64) -> Bool {
        guard purpose == .session, expiresAt > now else { return false }
        lastUsed = now
        if slidingTTL > 0, expiresAt - now < slidingTTL / 2 { expiresAt = now + slidingTTL }
        flags.insert(.dirty)
        return true
    }
}
