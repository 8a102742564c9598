import NIOPosix

/// Runs a task's jobs on a one-thread `NIOThreadPool` — the pool that also runs a SQLite
/// connection's statements. A task that prefers this executor and queries that connection
/// goes statement, continuation, statement on one thread, with no thread switch in between:
/// each statement's work item and the job that resumes after it queue up on the same thread.
final class ThreadPoolExecutor: TaskExecutor {
    private let pool: NIOThreadPool

    /// An executor on `pool`, which must have one thread.
    init(pool: NIOThreadPool) {
        self.pool = pool
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        pool.submit { state in
            switch state {
            case .active:
                job.runSynchronously(on: self.asUnownedTaskExecutor())
            case .cancelled:
                // The pool stopped (the database closed under a late caller). A stopped pool hands
                // the item back at once on the enqueuing thread, where running a job would re-enter
                // the task that is suspending: the global executor runs it instead.
                globalConcurrentExecutor.enqueue(ExecutorJob(job))
            }
        }
    }
}
