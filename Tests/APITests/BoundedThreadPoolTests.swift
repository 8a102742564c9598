import API
import Foundation
import Models
import Synchronization
import Testing

@Suite("Work on threads of its own, with a bound on what waits", .timeLimit(.minutes(1)))
struct BoundedThreadPoolTests {
    @Test("Past its threads and waiting places, work is refused at once with 503 and Retry-After; what was taken runs")
    func refusesPastTheBound() async throws {
        let pool = BoundedThreadPool(threads: 1, maxWaiting: 1, jobSeconds: 2, what: "images being processed", metric: "test_pool")
        let gate = DispatchSemaphore(value: 0)
        let running = Atomic<Int>(0)
        async let first: Int = pool.run {
            running.add(1, ordering: .relaxed)
            // Bounded: should the test fail or time out before it opens the gate, a thread left
            // blocked here would keep the whole test process from exiting.
            _ = gate.wait(timeout: .now() + 50)
            return 1
        }
        async let second: Int = pool.run { 2 }
        while pool.queued < 2 || running.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(5)) }

        do {
            _ = try await pool.run { 3 }
            Issue.record("a third job was taken past one thread and one waiting place")
        } catch let problem as Problem {
            #expect(problem.code == .unavailable)
            #expect(problem.retryAfter == 4, "two jobs ahead of it, two seconds each, on one thread")
            #expect(problem.detail?.contains("images being processed") == true)
        }
        gate.signal()
        #expect(try await first == 1)
        #expect(try await second == 2)
        #expect(pool.queued == 0)
        #expect(try await pool.run { 4 } == 4, "room again once the work is done")
        try await pool.shutdown()
    }
}
