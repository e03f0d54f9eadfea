import Glibc

/// A fixed set of OS threads running blocking jobs (password hashing) off
/// the event loop, fed by a bounded queue that is fair across sources.
///
/// Each `RequestSource` has its own FIFO of at most `queuePerSource` jobs,
/// and the threads take one job from each source with work in turn (round
/// robin), so a source that floods the pool waits behind itself: another
/// source's job waits for at most one job of each busy source.  `submit`
/// refuses a job instead of queueing it without bound (the source's share or
/// the whole queue is full), so an overloaded daemon answers "busy" at once.
/// Call `shutdown()` before dropping the pool: the threads keep it alive until then.
public final class WorkerPool: @unchecked Sendable {
    public typealias Job = @Sendable () -> Void

    // Guarded by `mutex`: queues, turns, turnsHead, count, stopping, joined.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let notEmpty: UnsafeMutablePointer<pthread_cond_t>
    /// Waiting jobs of each source with work.
    private var queues: [RequestSource: [Job]] = [:]
    /// Sources with work, in the order their next job runs (from `turnsHead`).
    private var turns: [RequestSource] = []
    private var turnsHead = 0
    private var count = 0
    private var stopping = false
    private var joined = false
    private var threads: [pthread_t] = []

    public let threadCount: Int
    public let queueLimit: Int
    public let queuePerSource: Int
    /// For logs; threads are not named (pthread_setname_np needs _GNU_SOURCE).
    public let name: String

    /// `threads` 0 means one per online core; `queueLimit` is the number of
    /// jobs that may wait for a thread (at least 1), `queuePerSource` the
    /// number one source may have waiting (0: up to `queueLimit`).
    public init(threads: Int, queueLimit: Int, queuePerSource: Int = 0, name: String) {
        let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        threadCount = threads > 0 ? threads : max(1, cores)
        self.queueLimit = max(1, queueLimit)
        self.queuePerSource = queuePerSource > 0 ? min(queuePerSource, self.queueLimit) : self.queueLimit
        self.name = name
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        notEmpty = .allocate(capacity: 1)
        notEmpty.initialize(to: pthread_cond_t())
        pthread_cond_init(notEmpty, nil)
        for _ in 0..<threadCount {
            start()
        }
    }

    deinit {
        pthread_cond_destroy(notEmpty)
        notEmpty.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Queues `job` behind the other jobs of `source`; false (and the job is
    /// not run) when the source's share or the whole queue is full, or the
    /// pool is shutting down.
    public func submit(source: RequestSource = .daemon, _ job: @escaping Job) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard !stopping, count < queueLimit else { return false }
        if var waiting = queues[source] {
            guard waiting.count < queuePerSource else { return false }
            queues[source] = nil  // keep the array uniquely referenced while appending
            waiting.append(job)
            queues[source] = waiting
        } else {
            queues[source] = [job]
            turns.append(source)
        }
        count += 1
        pthread_cond_signal(notEmpty)
        return true
    }

    /// Jobs waiting for a thread (not those running).
    public var queuedCount: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return count
    }

    /// Refuses new jobs, lets the threads finish every queued job, and joins
    /// them.  Idempotent; must not be called from a job.
    public func shutdown() {
        pthread_mutex_lock(mutex)
        stopping = true
        let mustJoin = !joined
        joined = true
        let toJoin = threads
        pthread_cond_broadcast(notEmpty)
        pthread_mutex_unlock(mutex)
        guard mustJoin else { return }
        for thread in toJoin {
            pthread_join(thread, nil)
        }
    }

    // MARK: - Threads

    private func start() {
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(
            &thread, nil,
            { raw in
                let pool = Unmanaged<WorkerPool>.fromOpaque(raw!).takeRetainedValue()
                pool.run()
                return nil
            }, context)
        guard rc == 0 else {
            Unmanaged<WorkerPool>.fromOpaque(context).release()
            fatalError("WorkerPool: cannot start a thread (error \(rc))")
        }
        pthread_mutex_lock(mutex)
        threads.append(thread)
        pthread_mutex_unlock(mutex)
    }

    private func run() {
        while let job = next() {
            job()
        }
    }

    /// The next job, or nil when stopping and the queue is empty.
    private func next() -> Job? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while count == 0 && !stopping {
            pthread_cond_wait(notEmpty, mutex)
        }
        guard count > 0 else { return nil }
        let source = turns[turnsHead]
        turnsHead += 1
        var waiting = queues.removeValue(forKey: source)!
        let job = waiting.removeFirst()
        if !waiting.isEmpty {
            queues[source] = waiting
            turns.append(source)  // its next job waits for one of every other source's
        }
        // Drop the turns taken once they are half the array (amortised O(1)).
        if turnsHead >= 32, turnsHead * 2 >= turns.count {
            turns.removeFirst(turnsHead)
            turnsHead = 0
        }
        count -= 1
        return job
    }
}
