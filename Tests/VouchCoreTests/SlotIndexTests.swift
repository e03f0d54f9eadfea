import Testing

@testable import VouchCore

/// The open-addressing index behind the user cache, against a plain model.
@Suite struct SlotIndexTests {
    /// Keys in an array indexed by a SlotIndex, maintained the way UserCache does it.
    struct Table {
        var keys: [Int] = []
        var index = SlotIndex()
        let hash: (Int) -> UInt64

        func slot(of key: Int) -> Int? { index.find(hash(key)) { keys[$0] == key } }

        mutating func insert(_ key: Int) {
            keys.append(key)
            index.insert(hash(key), slot: keys.count - 1)
        }

        mutating func remove(_ key: Int) {
            guard let slot = slot(of: key) else { return }
            let removed = index.remove(hash(key), slot: slot)
            #expect(removed)
            let last = keys.count - 1
            if slot != last {
                index.move(hash(keys[last]), from: last, to: slot)
                keys.swapAt(slot, last)
            }
            keys.removeLast()
        }
    }

    func exercise(hash: @escaping (Int) -> UInt64, operations: Int, keySpace: Int) {
        var rng = SeededGenerator(state: 42)
        var table = Table(hash: hash)
        var model = Set<Int>()
        for step in 0..<operations {
            let key = Int.random(in: 0..<keySpace, using: &rng)
            if model.contains(key) {
                table.remove(key)
                model.remove(key)
            } else {
                table.insert(key)
                model.insert(key)
            }
            if step % 97 == 0 || step == operations - 1 {
                #expect(table.index.count == model.count)
                for k in 0..<keySpace {
                    let slot = table.slot(of: k)
                    #expect((slot != nil) == model.contains(k), "key \(k) at step \(step)")
                    if let slot { #expect(table.keys[slot] == k) }
                }
            }
        }
    }

    @Test func agreesWithASetUnderRandomInsertsAndRemovals() {
        exercise(hash: { SlotHash.id(Int64($0)) }, operations: 20_000, keySpace: 3_000)
    }

    @Test func collidingHashesAndTagsStillFindTheRightSlot() {
        // Only 5 distinct hashes: long probe runs, equal tags, every removal shifts.
        exercise(hash: { UInt64($0 % 5) &* 0x1234_5678_9ABC_DEF1 }, operations: 4_000, keySpace: 400)
    }

    @Test func runsWrapAroundTheEndOfTheTable() {
        // Hashes whose home is the last buckets of a small table.
        exercise(hash: { UInt64.max - UInt64($0 % 3) }, operations: 2_000, keySpace: 60)
    }

    @Test func sizedForItsCapacityAndGrowsBeyondIt() {
        var index = SlotIndex(capacity: 1000)
        let initial = index.byteCount
        #expect(initial >= 1000 * 8 * 4 / 3)
        for i in 0..<1000 { index.insert(SlotHash.id(Int64(i)), slot: i) }
        #expect(index.byteCount == initial, "no growth up to the capacity asked for")
        for i in 1000..<5000 { index.insert(SlotHash.id(Int64(i)), slot: i) }
        #expect(index.count == 5000)
        #expect(index.byteCount > initial)
        for i in [0, 999, 4999] { #expect(index.find(SlotHash.id(Int64(i))) { $0 == i } == i) }
        #expect(index.find(SlotHash.id(5000)) { $0 == 5000 } == nil)
    }
}

extension SlotIndexTests {
    @Test func builtInOnePassItFindsWhatInsertsFindAndKeepsWorking() {
        for hash in [{ (k: Int) in SlotHash.id(Int64(k)) }, { (k: Int) in UInt64.max - UInt64(k % 7) }] {
            let keys = Array(0..<2_000).map { $0 * 3 }
            var table = Table(hash: hash)
            table.keys = keys
            // Every other key indexed, to check the nil (not indexed) case too.
            table.index = SlotIndex(count: keys.count) { $0 % 2 == 0 ? hash(keys[$0]) : nil }
            #expect(table.index.count == 1_000)
            for (slot, key) in keys.enumerated() {
                #expect(table.slot(of: key) == (slot % 2 == 0 ? slot : nil), "key \(key)")
            }
            // It is an ordinary index afterwards: removals shift, inserts probe.
            table.keys = keys.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
            table.index = SlotIndex(count: table.keys.count) { hash(table.keys[$0]) }
            for key in table.keys.prefix(300) { table.remove(key) }
            for key in [1, 4, 7] { table.insert(key) }
            for key in table.keys { #expect(table.slot(of: key) != nil, "key \(key)") }
            #expect(table.slot(of: 0) == nil)
        }
    }
}
