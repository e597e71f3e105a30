#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The persistent pool that runs kernels on all cores.
///
/// Workers are pthreads that live as long as the process. Between jobs they spin briefly on
/// an atomic job word (a fork/join then costs well under a microsecond), then park on a
/// condition variable so an idle program uses no CPU. The calling thread always works on
/// the job too, so a pool of `threadCount` threads has `threadCount - 1` workers.
///
/// Work is cut into chunks whose boundaries depend only on the item count and the grain,
/// never on the number of threads; threads claim chunks dynamically. A kernel that combines
/// per-chunk partial results in chunk order is therefore bitwise reproducible for any thread
/// count. A `parallelFor` issued while the pool is busy (from inside a job, or from a second
/// thread) runs its chunks serially on the calling thread, so nesting cannot deadlock.
///
/// The thread count comes from `FATHOM_NUM_THREADS` (default: all online cores) and can be
/// changed at run time with `threadCount` (or `Fathom.setNumThreads`).
public final class ThreadPool: @unchecked Sendable {
    /// Kernels smaller than this stay on the calling thread: forking costs more than it saves.
    public static let minParallelElements = 16_384

    /// Most chunks one job is cut into: enough to balance two to a few dozen threads, few
    /// enough that claiming a chunk (one atomic operation) costs nothing next to running it.
    static let maxChunks = 256

    /// The pool every kernel uses.
    public static let shared = ThreadPool(threadCount: ThreadPool.defaultThreadCount())

    /// How long an idle worker spins before parking, in nanoseconds.
    static let spinNanoseconds: UInt64 = 100_000

    // MARK: state shared with the workers

    /// The job word: generation (high 32 bits), next unclaimed chunk (bits 16..<32) and the
    /// job's chunk count (low 16 bits). Claiming a chunk is a compare-exchange on this word,
    /// so a worker can never claim a chunk of a job other than the one it read.
    private let job = Atomic<UInt64>(0)
    /// Chunks of the current job finished so far.
    private let completed = Atomic<Int>(0)
    /// Workers parked on `wakeCondition` (read by the caller to skip the wake-up syscall).
    private let sleepers = Atomic<Int>(0)
    /// Incremented by `parkWorkers()`: spinning workers that see a change park at once.
    private let parkEpoch = Atomic<Int>(0)
    /// Set while some thread runs a parallel job; others then run serially.
    private let busy = Atomic<Bool>(false)
    /// Workers taking part in jobs (`threadCount - 1`); workers at or above it wait.
    private let activeWorkers = Atomic<Int>(0)

    // Written by the caller before it publishes a job, read by workers only after they
    // claimed a chunk of that job (which proves the job is still the current one).
    private var jobBody: UnsafeRawPointer?
    private var jobCount = 0
    private var jobChunkSize = 0

    private var mutex = pthread_mutex_t()
    private var wakeCondition = pthread_cond_t()
    private var resizeCondition = pthread_cond_t()
    /// Worker threads started so far (they never exit; extra ones wait when shrinking).
    private var startedWorkers = 0

    init(threadCount: Int) {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&wakeCondition, nil)
        pthread_cond_init(&resizeCondition, nil)
        setThreadCount(threadCount)
    }

    /// `FATHOM_NUM_THREADS` when set to a positive number, otherwise the online core count.
    static func defaultThreadCount() -> Int {
        if let text = getenv("FATHOM_NUM_THREADS").map({ String(cString: $0) }),
           let n = Int(text.filter { !$0.isWhitespace }), n > 0 {
            return n
        }
        return max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }

    // MARK: configuration

    /// Threads that run a parallel job, the calling thread included (at least 1).
    /// Setting it waits for a running job to finish (so never set it from inside a
    /// `parallelFor` body); OpenBLAS follows the same count.
    public var threadCount: Int {
        get { activeWorkers.load(ordering: .relaxed) + 1 }
        set { setThreadCount(newValue) }
    }

    private func setThreadCount(_ requested: Int) {
        let n = max(1, requested)
        // Own the pool so that no job is running while workers come and go.
        while !busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            sched_yield()
        }
        pthread_mutex_lock(&mutex)
        while startedWorkers < n - 1 {
            startWorker(index: startedWorkers)
            startedWorkers += 1
        }
        activeWorkers.store(n - 1, ordering: .sequentiallyConsistent)
        pthread_cond_broadcast(&resizeCondition)
        pthread_mutex_unlock(&mutex)
        busy.store(false, ordering: .releasing)
        BLAS.threadCountDidChange(n)
    }

    private func startWorker(index: Int) {
        final class Start { let pool: ThreadPool; let index: Int; init(_ p: ThreadPool, _ i: Int) { pool = p; index = i } }
        let context = Unmanaged.passRetained(Start(self, index)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setstacksize(&attributes, 8 << 20)
        var thread = pthread_t()
        let status = pthread_create(&thread, &attributes, { raw in
            let start = Unmanaged<Start>.fromOpaque(raw!).takeRetainedValue()
            start.pool.workerLoop(index: start.index)
            return nil
        }, context)
        pthread_attr_destroy(&attributes)
        precondition(status == 0, "Fathom.ThreadPool: could not start a worker thread (pthread_create error \(status))")
        pthread_detach(thread)
    }

    /// Makes spinning workers park now instead of at the end of their spin. Call before
    /// handing the cores to another runtime (OpenBLAS), so the workers do not compete with it.
    public func parkWorkers() {
        parkEpoch.wrappingAdd(1, ordering: .relaxed)
    }

    // MARK: jobs

    /// How many chunks `count` items with minimum chunk `grain` are cut into, and their size.
    /// Depends only on `count` and `grain`, which is what makes results thread-count independent.
    @inline(__always)
    static func chunking(count: Int, grain: Int) -> (chunks: Int, size: Int) {
        let grain = max(grain, 1)
        let wanted = min(max(count / grain, 1), maxChunks)
        let size = (count + wanted - 1) / wanted
        return ((count + size - 1) / size, size)
    }

    /// Splits `0..<count` into chunks of at least `grain` items and runs `body` on each,
    /// in parallel. Chunk boundaries depend only on `count` and `grain`, never on the
    /// thread count; each chunk runs exactly once. Returns when every chunk has finished.
    @inline(__always)
    public func parallelFor(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        if count < 2 * max(grain, 1) {
            body(0..<count)  // one chunk: no pool involvement at all
            return
        }
        parallelChunks(count, grain: grain, body)
    }

    private func parallelChunks(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        let (chunks, size) = ThreadPool.chunking(count: count, grain: grain)
        if chunks <= 1 {
            body(0..<count)
            return
        }
        guard activeWorkers.load(ordering: .relaxed) > 0,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            // One thread, nested inside a job, or another thread owns the pool: same chunks, in order.
            for c in 0..<chunks { body(c * size ..< min(count, (c + 1) * size)) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            withUnsafePointer(to: escapable) { bodyPointer in
                jobBody = UnsafeRawPointer(bodyPointer)
                jobCount = count
                jobChunkSize = size
                completed.store(0, ordering: .relaxed)
                let generation = (job.load(ordering: .relaxed) >> 32) &+ 1
                job.store((generation << 32) | UInt64(chunks), ordering: .sequentiallyConsistent)
                if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                    pthread_mutex_lock(&mutex)
                    pthread_cond_broadcast(&wakeCondition)
                    pthread_mutex_unlock(&mutex)
                }
                var done = 0
                while let c = claimChunk(generation: generation) {
                    escapable(c * size ..< min(count, (c + 1) * size))
                    done += 1
                }
                if done > 0 { completed.add(done, ordering: .relaxed) }
                // Wait for chunks other threads claimed; yield if one of them was descheduled.
                var spins = 0
                while completed.load(ordering: .acquiring) < chunks {
                    spins += 1
                    if spins > 4096 { sched_yield() }
                }
                jobBody = nil
            }
        }
        busy.store(false, ordering: .releasing)
    }

    /// Claims the next chunk of job `generation`, or nil when it has none left (or has ended).
    @inline(__always)
    private func claimChunk(generation: UInt64) -> Int? {
        var word = job.load(ordering: .acquiring)
        while true {
            guard word >> 32 == generation else { return nil }
            let next = Int((word >> 16) & 0xFFFF), total = Int(word & 0xFFFF)
            guard next < total else { return nil }
            let (exchanged, original) = job.compareExchange(expected: word, desired: word &+ (1 << 16),
                                                             ordering: .acquiringAndReleasing)
            if exchanged { return next }
            word = original
        }
    }

    // MARK: workers

    private func workerLoop(index: Int) {
        var seenGeneration = job.load(ordering: .acquiring) >> 32
        while true {
            if index >= activeWorkers.load(ordering: .acquiring) {
                pthread_mutex_lock(&mutex)
                while index >= activeWorkers.load(ordering: .acquiring) {
                    pthread_cond_wait(&resizeCondition, &mutex)
                }
                pthread_mutex_unlock(&mutex)
                seenGeneration = job.load(ordering: .acquiring) >> 32
                continue
            }
            let generation = waitForJob(after: seenGeneration)
            seenGeneration = generation
            // The pool may have shrunk while this worker was parked: sit this job out.
            if index >= activeWorkers.load(ordering: .acquiring) { continue }
            var done = 0
            while let c = claimChunk(generation: generation) {
                // Claiming succeeded, so the job's fields are this job's and stay valid until
                // `completed` counts this chunk.
                let body = jobBody!.assumingMemoryBound(to: ((Range<Int>) -> Void).self)
                let size = jobChunkSize, count = jobCount
                body.pointee(c * size ..< min(count, (c + 1) * size))
                done += 1
            }
            if done > 0 { completed.add(done, ordering: .releasing) }
        }
    }

    /// Spins until a job newer than `seen` is published, then parks; returns its generation.
    private func waitForJob(after seen: UInt64) -> UInt64 {
        let epoch = parkEpoch.load(ordering: .relaxed)
        let start = monotonicNanoseconds()
        var spins = 0
        while true {
            let generation = job.load(ordering: .acquiring) >> 32
            if generation != seen { return generation }
            spins += 1
            if spins & 63 == 0 {
                if parkEpoch.load(ordering: .relaxed) != epoch
                    || monotonicNanoseconds() &- start > ThreadPool.spinNanoseconds {
                    break
                }
            }
        }
        // Park. The caller publishes the job, then reads `sleepers`; we count ourselves, then
        // read the job: with sequentially consistent order one of us sees the other.
        pthread_mutex_lock(&mutex)
        sleepers.add(1, ordering: .sequentiallyConsistent)
        var generation = job.load(ordering: .sequentiallyConsistent) >> 32
        while generation == seen {
            pthread_cond_wait(&wakeCondition, &mutex)
            generation = job.load(ordering: .sequentiallyConsistent) >> 32
        }
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
        pthread_mutex_unlock(&mutex)
        return generation
    }
}

@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
}

/// Sets how many threads kernels (and OpenBLAS) use, like `torch.set_num_threads`.
/// Results are bitwise identical for any count. Same as `ThreadPool.shared.threadCount = n`.
public func setNumThreads(_ n: Int) { ThreadPool.shared.threadCount = n }

/// The number of threads kernels use, like `torch.get_num_threads`.
public func numThreads() -> Int { ThreadPool.shared.threadCount }
