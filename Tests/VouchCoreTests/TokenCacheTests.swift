import Foundation
import Testing
import VouchSecrets

@testable import VouchCore

/// The reference for the model test: a dictionary, plus its keys in an array
/// so that the seeded generator picks the same tokens in every run
/// (a dictionary's order changes from one process to the next).
private struct Model {
    private(set) var tokens: [TokenDigest: TokenRecord] = [:]
    private var keys: [TokenDigest] = []
    private var position: [TokenDigest: Int] = [:]

    var count: Int { tokens.count }
    subscript(_ digest: TokenDigest) -> TokenRecord? { tokens[digest] }

    /// Adds or replaces a token; returns the one replaced.
    mutating func put(_ r: TokenRecord) -> TokenRecord? {
        if position[r.digest] == nil {
            position[r.digest] = keys.count
            keys.append(r.digest)
        }
        return tokens.updateValue(r, forKey: r.digest)
    }

    @discardableResult
    mutating func remove(_ digest: TokenDigest) -> TokenRecord? {
        guard let i = position.removeValue(forKey: digest) else { return nil }
        let last = keys.removeLast()
        if i < keys.count {
            keys[i] = last
            position[last] = i
        }
        return tokens.removeValue(forKey: digest)
    }

    /// The tokens matching `predicate`, in id order.
    func filter(_ predicate: (TokenRecord) -> Bool) -> [TokenRecord] {
        tokens.values.filter(predicate).sorted { $0.id < $1.id }
    }

    func randomDigest(using rng: inout some RandomNumberGenerator) -> TokenDigest? { keys.randomElement(using: &rng) }
}

@Suite struct TokenCacheTests {
    static let t0: Int64 = 1_700_000_000_000
    static let hour: Int64 = 3_600_000

    /// A digest with the given words (the first is the index's hash).
    static func digest(_ a: UInt64, _ b: UInt64 = 0, _ c: UInt64 = 0, _ d: UInt64 = 0) -> TokenDigest {
        TokenDigest(
            bytes: [a, b, c, d].flatMap { w in (0..<8).reversed().map { UInt8(truncatingIfNeeded: w >> ($0 * 8)) } })!
    }

    static func record(
        _ id: Int64, user: Int64, _ purpose: TokenPurpose = .session, digest: TokenDigest? = nil, label: String = "",
        fingerprint: [UInt8]? = nil, expires: Int64 = t0 + hour, lastUsed: Int64? = nil
    ) -> TokenRecord {
        TokenRecord(
            id: id, digest: digest ?? Self.digest(UInt64(id) &* 0x9E37_79B9_7F4A_7C15, UInt64(id)), purpose: purpose,
            userId: user, label: label, fingerprint: fingerprint, createdAt: t0 + id, expiresAt: expires,
            lastUsed: lastUsed)
    }

    @Test func recordIsSmallAndFlat() {
        let stride = MemoryLayout<PackedToken>.stride
        print("PackedToken stride: \(stride) bytes")
        #expect(stride <= 96)
        #expect(MemoryLayout<TokenDigest>.size == 32)
        #expect(MemoryLayout<TokenPurpose>.size == 1)
    }

    @Test func insertLookupRemove() {
        let cache = TokenCache()
        let a = Self.record(1, user: 10)
        let b = Self.record(2, user: 10, .resetPassword, fingerprint: [1, 2, 3])
        let c = Self.record(3, user: 11, label: "backup job", lastUsed: Self.t0)
        for r in [a, b, c] { cache.insert(r) }
        #expect(cache.count == 3)
        #expect(cache.sessionCount == 2)
        #expect(cache.entry(a.digest) == a)
        #expect(cache.entry(b.digest) == b)
        #expect(cache.entry(c.digest) == c)
        #expect(cache.entry(Self.digest(42)) == nil)

        #expect(cache.remove(a.digest) == a)
        #expect(cache.remove(a.digest) == nil)
        #expect(cache.entry(a.digest) == nil)
        #expect(cache.entry(c.digest) == c)
        #expect(cache.count == 2)
        #expect(cache.sessionCount == 1)
    }

    @Test func insertingTheSameDigestReplaces() {
        let cache = TokenCache()
        let first = Self.record(1, user: 10, label: "old")
        var second = Self.record(2, user: 11, .verifyEmail, digest: first.digest)
        second.fingerprint = [9]
        cache.insert(first)
        cache.insert(second)
        #expect(cache.count == 1)
        #expect(cache.sessionCount == 0)
        #expect(cache.entry(first.digest) == second)
        #expect(cache.records(userId: 10).isEmpty)
        #expect(cache.records(userId: 11) == [second])
    }

    @Test func removeAllByUserAndPurpose() {
        let cache = TokenCache()
        let mine = [
            Self.record(1, user: 1), Self.record(2, user: 1, .resetPassword), Self.record(3, user: 1),
            Self.record(4, user: 1, .verifyEmail),
        ]
        let theirs = [
            Self.record(5, user: 2), Self.record(6, user: 2, .resetPassword), Self.record(15, user: 2),
            Self.record(16, user: 2, .resetPassword),
        ]
        // Interleaved, so removals move records of the other user.
        for (m, t) in zip(mine, theirs) {
            cache.insert(m)
            cache.insert(t)
        }
        #expect(cache.count == 8)
        #expect(cache.sessionCount == 4)
        #expect(cache.removeAll(userId: 1, purpose: .session) == 2)
        #expect(Set(cache.records(userId: 1).map(\.id)) == [2, 4])
        #expect(cache.sessionCount == 2)
        #expect(cache.removeAll(userId: 1, purpose: .session) == 0)
        #expect(cache.removeAll(userId: 1, purpose: nil) == 2)
        #expect(cache.records(userId: 1).isEmpty)
        #expect(cache.removeAll(userId: 99, purpose: nil) == 0)
        #expect(Set(cache.records(userId: 2).map(\.id)) == [5, 6, 15, 16])
        for r in theirs { #expect(cache.entry(r.digest) == r) }
        #expect(cache.count == 4)
        #expect(cache.sessionCount == 2)
    }

    @Test func removeExpired() {
        let cache = TokenCache()
        for id in Int64(1)...20 {
            cache.insert(Self.record(id, user: id % 3, id % 4 == 0 ? .resetPassword : .session, expires: Self.t0 + id))
        }
        #expect(cache.removeExpired(now: Self.t0) == 0)
        #expect(cache.removeExpired(now: Self.t0 + 10) == 10)
        #expect(cache.count == 10)
        #expect(cache.sessionCount == 7)  // 11...20 less 12, 16, 20
        for id in Int64(1)...20 {
            #expect((cache.entry(Self.record(id, user: 0).digest) != nil) == (id > 10))
        }
        #expect(cache.records(userId: 1).map(\.id).sorted() == [13, 16, 19])
        #expect(cache.removeExpired(now: Self.t0 + 100) == 10)
        #expect(cache.count == 0)
        #expect(cache.sessionCount == 0)
    }

    @Test func touchSessionRecordsUseAndSlides() {
        let cache = TokenCache()
        let session = Self.record(1, user: 7, expires: Self.t0 + 10 * Self.hour)
        let reset = Self.record(2, user: 7, .resetPassword)
        cache.insert(session)
        cache.insert(reset)
        #expect(cache.takeDirty().isEmpty)

        // Fixed lifetime: the use is recorded, the expiry stays.
        let now = Self.t0 + 8 * Self.hour
        #expect(cache.touchSession(session.digest, now: now, slidingTTL: 0)! == (7, session.expiresAt))
        #expect(cache.entry(session.digest)?.lastUsed == now)
        let dirty = cache.takeDirty()
        #expect(dirty.count == 1)
        #expect(dirty.first.map { [$0.id, $0.lastUsed ?? -1, $0.expiresAt] } == [1, now, session.expiresAt])
        #expect(cache.takeDirty().isEmpty)

        // Sliding, more than half the lifetime left: no renewal.
        let ttl = 6 * Self.hour
        #expect(cache.touchSession(session.digest, now: Self.t0, slidingTTL: ttl)?.expiresAt == session.expiresAt)
        // Less than half left: renewed to now + ttl.
        #expect(cache.touchSession(session.digest, now: now, slidingTTL: ttl)?.expiresAt == now + ttl)
        #expect(cache.entry(session.digest)?.expiresAt == now + ttl)
        #expect(cache.takeDirty().map(\.expiresAt) == [now + ttl])

        // Not a session, unknown, or expired: nil, and nothing recorded.
        #expect(cache.touchSession(reset.digest, now: Self.t0, slidingTTL: 0) == nil)
        #expect(cache.touchSession(Self.digest(5), now: Self.t0, slidingTTL: 0) == nil)
        #expect(cache.touchSession(session.digest, now: now + ttl, slidingTTL: ttl) == nil)
        #expect(cache.takeDirty().isEmpty)
        #expect(cache.entry(reset.digest)?.lastUsed == nil)
    }

    @Test func labelsAndFingerprintsSurviveMoves() {
        let cache = TokenCache()
        let plain = (1...5).map { Self.record(Int64($0), user: 1) }
        let labelled = Self.record(6, user: 2, label: "ci deploy")
        let reset = Self.record(7, user: 2, .resetPassword, fingerprint: [0xAB, 0xCD])
        let empty = Self.record(8, user: 2, .verifyEmail, fingerprint: [])
        for r in plain + [labelled, reset, empty] { cache.insert(r) }
        // Removing the first ones moves the last records down into their slots.
        for r in plain { cache.remove(r.digest) }
        #expect(cache.entry(labelled.digest) == labelled)
        #expect(cache.entry(reset.digest) == reset)
        #expect(cache.entry(empty.digest)?.fingerprint == [])
        #expect(Set(cache.records(userId: 2)) == [labelled, reset, empty])
        // Removing a token drops its label with it.
        #expect(cache.remove(labelled.digest)?.label == "ci deploy")
        var reissued = labelled
        reissued.label = ""
        cache.insert(reissued)
        #expect(cache.entry(labelled.digest)?.label == "")
    }

    @Test func replaceAllReplacesEverything() {
        let cache = TokenCache()
        cache.insert(Self.record(1, user: 1))
        let records = (Int64(2)...1000).map { (id: Int64) -> TokenRecord in
            Self.record(id, user: id % 7, label: id % 100 == 0 ? "l\(id)" : "")
        }
        var all = TokenCache.Builder()
        all.reserve(records.count)
        for r in records { all.add(r) }
        cache.replaceAll(with: all)
        #expect(cache.count == records.count)
        #expect(cache.entry(Self.record(1, user: 1).digest) == nil)
        for r in records { #expect(cache.entry(r.digest) == r) }
        #expect(cache.records(userId: 3).count == records.count { $0.userId == 3 })

        var builder = TokenCache.Builder()
        builder.reserve(2)
        builder.add(Self.record(1, user: 1))
        cache.replaceAll(with: builder)
        #expect(cache.count == 1)
        #expect(cache.sessionCount == 1)
    }

    /// Store to memory, row by row: what vouchd does at start-up.
    @Test func loadsFromTheStore() throws {
        let dir = TempDir()
        let store = try openStore(dir)
        let clock = ManualClock()
        let accounts = AccountService(
            store: store, hasher: cheapHasher, policy: PasswordPolicy(), clock: clock, logger: quietLogger)
        try accounts.load()
        let user = try accounts.createUser(
            username: "tok", email: nil, password: SecretBytes(Array("correct horse".utf8)), flags: [.active])
        let issuer = TokenService(store: store, settings: TokenSettings(), clock: clock, logger: quietLogger)
        let session = try issuer.issue(.session, userId: user.id, label: "cron")
        let reset = try issuer.issue(.resetPassword, userId: user.id, fingerprint: [1, 2])
        _ = try issuer.issue(.session, userId: user.id, ttl: 1000)
        clock.advance(1000)

        let loaded = TokenService(store: store, settings: TokenSettings(), clock: clock, logger: quietLogger)
        try loaded.load()
        #expect(loaded.sessionCount == 1)
        #expect(loaded.sessions(userId: user.id) == [session.record])
        #expect(loaded.verifySession(session.token)?.userId == user.id)
        #expect(loaded.peek(reset.token, purpose: .resetPassword) == reset.record)
    }

    // MARK: - Randomized model test

    /// Checks the table's own structure: every slot indexed at itself, and
    /// every user's list holding exactly that user's slots, linked both ways.
    static func checkStructure(_ table: TokenTable) {
        var byUser: [Int64: Set<Int>] = [:]
        for (slot, t) in table.records.enumerated() {
            #expect(table.slot(of: t.digest) == slot)
            byUser[t.userId, default: []].insert(slot)
            if t.next != PackedToken.noSlot { #expect(table.records[Int(t.next)].prev == UInt32(slot)) }
            if t.prev != PackedToken.noSlot { #expect(table.records[Int(t.prev)].next == UInt32(slot)) }
        }
        for (user, slots) in byUser {
            let listed = table.slots(userId: user)
            #expect(listed.count == slots.count && Set(listed) == slots)
        }
    }

    /// Random operations against a plain dictionary.  `homes` limits the
    /// digests' first word (the hash) to that many values, making long clusters
    /// that every removal must shift back.
    func runModel(seed: UInt64, steps: Int, homes: UInt64? = nil) {
        var rng = SeededGenerator(state: seed)
        var table = TokenTable()
        var model = Model()
        var dirty: Set<Int64> = []
        var now = Self.t0
        var nextId: Int64 = 1
        var gone: [TokenDigest] = []
        var maxCount = 0
        let users: ClosedRange<Int64> = 1...100

        func randomDigest() -> TokenDigest {
            let a = rng.next()
            return Self.digest(homes.map { a % $0 } ?? a, rng.next(), rng.next(), rng.next())
        }
        func anyLive() -> TokenDigest? { model.randomDigest(using: &rng) }

        for step in 0..<steps {
            // Grow for the first half, then churn, then shrink.
            let phase = step * 3 / steps
            let roll = Int.random(in: 0..<100, using: &rng)
            var probes: [TokenDigest] = []
            switch (phase, roll) {
            case (0, 0..<75), (1, 0..<40), (2, 0..<15):
                let purpose = TokenPurpose.allCases.randomElement(using: &rng)!
                let rare = Int.random(in: 0..<10, using: &rng) == 0
                let r = TokenRecord(
                    id: nextId, digest: randomDigest(), purpose: purpose, userId: Int64.random(in: users, using: &rng),
                    label: rare ? "label \(nextId)" : "", fingerprint: rare ? [UInt8(truncatingIfNeeded: nextId)] : nil,
                    createdAt: now, expiresAt: now + Int64.random(in: 1...(500 * Self.hour), using: &rng))
                nextId += 1
                table.insert(r)
                if let old = model.put(r) { dirty.remove(old.id) }
                probes.append(r.digest)
            case (_, 0..<70):
                guard let d = anyLive() else { break }
                let removed = model.remove(d)!
                let slot = table.slot(of: d)
                #expect(slot.map { table.record(at: $0) } == removed)
                if let slot { table.remove(at: slot) }
                dirty.remove(removed.id)
                gone.append(d)
                probes.append(d)
            case (_, 70..<82):
                guard let d = anyLive() else { break }
                let ttl = Bool.random(using: &rng) ? 0 : 20 * Self.hour
                var expected: (userId: Int64, expiresAt: Int64)?
                if var r = model[d], r.purpose == .session, r.expiresAt > now {
                    r.lastUsed = now
                    if ttl > 0, r.expiresAt - now < ttl / 2 { r.expiresAt = now + ttl }
                    _ = model.put(r)
                    dirty.insert(r.id)
                    expected = (r.userId, r.expiresAt)
                }
                let got = table.touchSession(d, now: now, slidingTTL: ttl)
                #expect(got?.userId == expected?.userId && got?.expiresAt == expected?.expiresAt)
                probes.append(d)
            case (_, 82..<84):
                let user = Int64.random(in: users, using: &rng)
                let purpose = Bool.random(using: &rng) ? nil : TokenPurpose.allCases.randomElement(using: &rng)
                let doomed = model.filter { $0.userId == user && (purpose == nil || $0.purpose == purpose) }
                for r in doomed {
                    model.remove(r.digest)
                    dirty.remove(r.id)
                }
                #expect(table.removeAll(userId: user, purpose: purpose) == doomed.count)
                probes += doomed.prefix(5).map(\.digest)
            case (_, 84..<93):
                now += Int64.random(in: 0...Self.hour, using: &rng)
                let expired = model.filter { $0.expiresAt <= now }
                for r in expired {
                    model.remove(r.digest)
                    dirty.remove(r.id)
                }
                #expect(table.removeExpired(now: now) == expired.count)
            case (_, 93..<96):
                let taken = table.takeDirty()
                #expect(Set(taken.map(\.id)) == dirty && taken.count == dirty.count)
                for t in taken {
                    let r = model.tokens.values.first { $0.id == t.id }
                    #expect(r?.lastUsed == t.lastUsed && r?.expiresAt == t.expiresAt)
                }
                dirty = []
            default:
                probes.append(randomDigest())  // almost surely absent
            }

            // After every step: counts, and lookups of what the step touched,
            // a few live tokens and a few removed ones.
            #expect(table.count == model.count)
            #expect(table.sessionCount == model.tokens.values.count { $0.purpose == .session })
            for _ in 0..<3 {
                if let d = anyLive() { probes.append(d) }
                if let d = gone.randomElement(using: &rng) { probes.append(d) }
            }
            for d in probes { #expect(table.slot(of: d).map { table.record(at: $0) } == model[d]) }
            maxCount = max(maxCount, table.count)
            if step % 250 == 0 || model.count < 64 { Self.checkStructure(table) }
        }
        for (d, r) in model.tokens { #expect(table.slot(of: d).map { table.record(at: $0) } == r) }
        Self.checkStructure(table)
        #expect(maxCount >= (homes == nil ? 1600 : 300), "the table should grow past several doublings")
    }

    @Test func matchesADictionaryModel() {
        runModel(seed: 0x766F_7563_6801, steps: 12000)
    }

    @Test func matchesADictionaryModelWithCollidingDigests() {
        runModel(seed: 0x766F_7563_6802, steps: 1500, homes: 64)
    }
}
