import Foundation
import Testing

@testable import VouchCore

@Suite struct UserCacheTests {
    static func user(
        _ id: Int64, _ name: String, email: String? = nil, created: Int64 = 0, login: Int64? = nil
    ) -> User {
        User(
            id: id, uuid: UUID(), username: name, email: email, passwordHash: "h", flags: [.active],
            createdAt: created, updatedAt: created, lastLogin: login)
    }

    @Test func resolvesEveryKindOfReference() throws {
        let alice = Self.user(1, "Alice", email: "alice@example.com")
        let two = Self.user(2, "bob")
        let named2 = Self.user(3, "2")
        let cache = UserCache(users: [alice, two, named2])
        #expect(cache.count == 3)
        #expect(cache.user(.id(1)) == alice)
        #expect(cache.user(.uuid(two.uuid)) == two)
        #expect(cache.user(.name("ALICE")) == alice)
        #expect(cache.user(.name("nobody")) == nil)
        #expect(cache.user(email: "ALICE@example.com") == alice)
        // .any: a username first, then a numeric id, then a uuid.
        #expect(cache.user(.any("2")) == named2)
        #expect(cache.user(.any("1")) == alice)
        #expect(cache.user(.any(two.uuid.uuidString.lowercased())) == two)
        #expect(cache.user(.any("99")) == nil)
    }

    @Test func upsertReindexesAndRemoveKeepsOthers() {
        let cache = UserCache(users: [Self.user(1, "a", email: "a@x"), Self.user(2, "b")])
        var renamed = Self.user(1, "z", email: "z@x")
        renamed.uuid = cache.user(id: 1)!.uuid
        cache.upsert(renamed)
        #expect(cache.user(named: "a") == nil)
        #expect(cache.user(email: "a@x") == nil)
        #expect(cache.user(named: "Z") == renamed)
        #expect(cache.remove(id: 1) == renamed)
        #expect(cache.user(named: "z") == nil)
        #expect(cache.user(.id(2))?.username == "b")
        #expect(cache.count == 1)
        #expect(cache.remove(id: 1) == nil)
    }

    static func reference(_ users: [User], _ order: UserOrder, _ descending: Bool) -> [User] {
        let sorted = users.sorted { a, b in
            switch order {
            case .id: return a.id < b.id
            case .username:
                let (ka, kb) = (a.username.lowercased(), b.username.lowercased())
                return ka != kb ? ka < kb : a.id < b.id
            case .created:
                return a.createdAt != b.createdAt ? a.createdAt < b.createdAt : a.id < b.id
            case .lastLogin:
                switch (a.lastLogin, b.lastLogin) {
                case (nil, nil): return a.id < b.id
                case (nil, _): return false
                case (_, nil): return true
                case (let x?, let y?): return x != y ? x < y : a.id < b.id
                }
            }
        }
        return descending ? sorted.reversed() : sorted
    }

    @Test func pagesMatchAFullSortInEveryOrder() {
        var generator = SystemRandomNumberGenerator()
        var users: [User] = []
        for id in 1...157 {
            let name =
                (id % 3 == 0 ? "User" : "user") + String(Int.random(in: 0..<60, using: &generator))
            let login: Int64? = id % 4 == 0 ? nil : Int64.random(in: 0..<40, using: &generator)
            users.append(
                Self.user(
                    Int64(id) * 7 % 1000, name + "-\(id)",
                    created: Int64.random(in: 0..<30, using: &generator), login: login))
        }
        users.shuffle()
        let cache = UserCache(users: users)
        for order in UserOrder.allCases {
            for descending in [false, true] {
                let expected = Self.reference(users, order, descending)
                for limit in [1, 7, 20, 100, 1000] {
                    var collected: [User] = []
                    var page = 1
                    while true {
                        let result = cache.page(
                            limit: limit, page: page, order: order, descending: descending)
                        #expect(result.total == users.count)
                        if result.users.isEmpty { break }
                        #expect(result.users.count <= limit)
                        collected += result.users
                        page += 1
                    }
                    #expect(
                        collected == expected, "order \(order) desc \(descending) limit \(limit)")
                }
            }
        }
    }

    @Test func lastLoginAscendingPutsNeverLoggedInLast() {
        let cache = UserCache(users: [
            Self.user(1, "never"), Self.user(2, "late", login: 50),
            Self.user(3, "early", login: 10),
        ])
        let ascending = cache.page(limit: 10, page: 1, order: .lastLogin, descending: false)
        #expect(ascending.users.map(\.id) == [3, 2, 1])
        let descending = cache.page(limit: 10, page: 1, order: .lastLogin, descending: true)
        #expect(descending.users.map(\.id) == [1, 2, 3])
    }

    @Test func pagesPastTheEndAreEmpty() {
        let cache = UserCache(users: [Self.user(1, "a"), Self.user(2, "b")])
        #expect(cache.page(limit: 10, page: 2, order: .id, descending: false).users.isEmpty)
        #expect(cache.page(limit: 1000, page: Int.max, order: .id, descending: false).total == 2)
        #expect(UserCache().page(limit: 5, page: 1, order: .username, descending: true).total == 0)
    }
}
