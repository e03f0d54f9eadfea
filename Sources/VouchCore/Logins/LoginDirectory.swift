/// Login profiles in memory, indexed by user id and by uid.  Read from any
/// thread (the userdb server reads it on the event loop): every method
/// holds the lock for a dictionary lookup only.
public final class LoginDirectory: Sendable {
    struct State {
        var byUser: [Int64: LoginProfile] = [:]
        var userByUID: [UInt32: Int64] = [:]
    }
    let state = Locked(State())

    public init() {}

    func replaceAll(_ profiles: [LoginProfile]) {
        var next = State()
        for p in profiles {
            next.byUser[p.userId] = p
            if let uid = p.uid { next.userByUID[uid] = p.userId }
        }
        state.withLock { $0 = next }
    }

    func upsert(_ profile: LoginProfile) {
        state.withLock { s in
            if let old = s.byUser[profile.userId]?.uid, old != profile.uid { s.userByUID[old] = nil }
            s.byUser[profile.userId] = profile
            if let uid = profile.uid { s.userByUID[uid] = profile.userId }
        }
    }

    func remove(userId: Int64) {
        state.withLock { s in
            if let uid = s.byUser.removeValue(forKey: userId)?.uid { s.userByUID[uid] = nil }
        }
    }

    public func profile(userId: Int64) -> LoginProfile? {
        state.withLock { $0.byUser[userId] }
    }

    /// The user holding `uid` as a login, if any.
    public func userId(uid: UInt32) -> Int64? {
        state.withLock { s in
            guard let id = s.userByUID[uid], s.byUser[id]?.login == true else { return nil }
            return id
        }
    }

    /// Every login profile, in uid order.
    public func logins() -> [LoginProfile] {
        state.withLock { s in s.byUser.values.filter(\.login) }.sorted { ($0.uid ?? 0) < ($1.uid ?? 0) }
    }
}
