extension UserCache {
    /// One page of users in `order` and the total number of users.
    ///
    /// Orders are total (ties broken by id).  `.username` ignores case;
    /// `.lastLogin` puts users who never logged in last when ascending
    /// (and first when descending, which is the exact reverse).
    ///
    /// Selects the first `limit * page` users with a bounded heap instead of
    /// sorting the whole table when that is a small part of it, and holds
    /// the lock for one scan.  `limit` and `page` must be at least 1.
    public func page(limit: Int, page: Int, order: UserOrder, descending: Bool) -> (
        total: Int, users: [User]
    ) {
        precondition(limit >= 1 && page >= 1, "limit and page start at 1")
        return state.withLock { s in
            let entries = s.entries
            let total = entries.count
            let (offset, overflow) = (page - 1).multipliedReportingOverflow(by: limit)
            guard !overflow, offset < total else { return (total, []) }
            let end = min(total, offset + min(limit, total - offset))
            let ascending = Self.ascending(order, entries)
            let less: (Int, Int) -> Bool =
                descending ? { ascending($1, $0) } : ascending
            let slots = Self.firstSlots(end, of: total, by: less)
            return (total, slots[offset..<end].map { entries[$0].user })
        }
    }

    /// The strict weak ordering of slots for `order`, ascending.
    static func ascending(_ order: UserOrder, _ e: [Entry]) -> (Int, Int) -> Bool {
        switch order {
        case .id:
            return { e[$0].user.id < e[$1].user.id }
        case .username:
            return { a, b in
                let ka = e[a].nameKey
                let kb = e[b].nameKey
                return ka != kb ? ka < kb : e[a].user.id < e[b].user.id
            }
        case .created:
            return { a, b in
                let ua = e[a].user
                let ub = e[b].user
                return ua.createdAt != ub.createdAt ? ua.createdAt < ub.createdAt : ua.id < ub.id
            }
        case .lastLogin:
            return { a, b in
                let ua = e[a].user
                let ub = e[b].user
                switch (ua.lastLogin, ub.lastLogin) {
                case (nil, nil): return ua.id < ub.id
                case (nil, _): return false
                case (_, nil): return true
                case (let la?, let lb?): return la != lb ? la < lb : ua.id < ub.id
                }
            }
        }
    }

    /// The `k` smallest of slots `0..<n` under `less`, sorted.
    static func firstSlots(_ k: Int, of n: Int, by less: (Int, Int) -> Bool) -> [Int] {
        if k <= 0 { return [] }
        // A heap costs n·log k; a full sort n·log n.  Sort when k is most of n.
        if k * 2 >= n {
            return Array((0..<n).sorted(by: less).prefix(k))
        }
        // Max-heap of the k smallest seen so far: heap[0] is the largest.
        var heap: [Int] = []
        heap.reserveCapacity(k)
        for slot in 0..<n {
            if heap.count < k {
                heap.append(slot)
                var child = heap.count - 1
                while child > 0 {
                    let parent = (child - 1) / 2
                    guard less(heap[parent], heap[child]) else { break }
                    heap.swapAt(parent, child)
                    child = parent
                }
            } else if less(slot, heap[0]) {
                heap[0] = slot
                var parent = 0
                while true {
                    let left = 2 * parent + 1
                    if left >= k { break }
                    let right = left + 1
                    var largest = left
                    if right < k && less(heap[left], heap[right]) { largest = right }
                    guard less(heap[parent], heap[largest]) else { break }
                    heap.swapAt(parent, largest)
                    parent = largest
                }
            }
        }
        heap.sort(by: less)
        return heap
    }
}
