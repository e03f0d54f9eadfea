import Dispatch
import Glibc
import Synchronization
import Testing

@testable import VouchCore

@Suite struct WorkerPoolTests {
    @Test func runsEveryJobAndShutdownJoins() {
        let pool = WorkerPool(threads: 3, queueLimit: 500, name: "test")
        // An atomic, not a Mutex: ThreadSanitizer does not see Synchronization.Mutex's futex as a lock.
        let done = Atomic<Int>(0)
        for _ in 0..<200 {
            let accepted = pool.submit { done.add(1, ordering: .relaxed) }
            #expect(accepted)
        }
        pool.shutdown()
        #expect(done.load(ordering: .relaxed) == 200)
        #expect(pool.queuedCount == 0)
        #expect(!pool.submit {})
        pool.shutdown()  // idempotent
    }

    @Test func refusesWhenTheQueueIsFull() {
        let pool = WorkerPool(threads: 1, queueLimit: 2, name: "test")
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let ran = Locked<[Int]>([])
        let first = pool.submit {
            started.signal()
            release.wait()
            ran.withLock { $0.append(0) }
        }
        #expect(first)
        started.wait()  // the only thread is busy; the queue is empty
        let second = pool.submit { ran.withLock { $0.append(1) } }
        let third = pool.submit { ran.withLock { $0.append(2) } }
        #expect(second && third)
        #expect(pool.queuedCount == 2)
        let fourth = pool.submit { ran.withLock { $0.append(3) } }
        #expect(!fourth)
        release.signal()
        pool.shutdown()
        #expect(ran.withLock { $0 } == [0, 1, 2])  // FIFO, the refused job never ran
    }

    @Test func sourcesTakeTurnsAndOneSourceCannotFillTheQueue() {
        let pool = WorkerPool(threads: 1, queueLimit: 100, queuePerSource: 4, name: "test")
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let ran = Locked<[String]>([])
        let flooder = RequestSource(uid: 1000)
        let victim = RequestSource(uid: 1001)
        #expect(
            pool.submit(source: flooder) {
                started.signal()
                release.wait()
            })
        started.wait()
        // The flooder's share is 4 waiting jobs; the fifth is refused.
        let accepted = (0..<10).filter { i in pool.submit(source: flooder) { ran.withLock { $0.append("f\(i)") } } }
        #expect(accepted.count == 4)
        // The victim's jobs, queued after, run in turn with the flooder's, not after them.
        #expect(pool.submit(source: victim) { ran.withLock { $0.append("v0") } })
        #expect(pool.submit(source: victim) { ran.withLock { $0.append("v1") } })
        release.signal()
        pool.shutdown()
        #expect(ran.withLock { $0 } == ["f0", "v0", "f1", "v1", "f2", "f3"])
    }

    @Test func zeroThreadsMeansOnePerCore() {
        let pool = WorkerPool(threads: 0, queueLimit: 1, name: "test")
        defer { pool.shutdown() }
        #expect(pool.threadCount == max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
    }

    @Test func jobsRunOnOtherThreadsInParallel() {
        let pool = WorkerPool(threads: 2, queueLimit: 4, name: "test")
        let a = DispatchSemaphore(value: 0)
        let b = DispatchSemaphore(value: 0)
        // Each job waits for the other: only finishes if both run at once.
        #expect(
            pool.submit {
                a.signal()
                b.wait()
            })
        #expect(
            pool.submit {
                b.signal()
                a.wait()
            })
        pool.shutdown()
    }
}
