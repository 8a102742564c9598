import API
import Foundation
import TestSupport
import Testing

@Suite("Rate limiter")
struct RateLimiterTests {
    @Test("A key's budget is counted in fixed windows; take refuses with the seconds left, and counts nothing then")
    func budget() {
        let clock = TestClock()
        let limiter = RateLimiter(.init(limit: 2, window: 60), now: { clock.now })
        #expect(limiter.take("k") == nil && limiter.take("k") == nil)
        #expect(limiter.take("k") == 60)
        clock.advance(by: 30)
        #expect(limiter.retryAfter("k") == 30)
        limiter.giveBack("k")
        #expect(limiter.take("k") == nil)
        clock.advance(by: 31)
        #expect(limiter.take("k") == nil)
    }

    @Test("Memory is bounded: passed windows expire, the oldest go past the key limit, long keys are hashed")
    func boundedMemory() {
        let clock = TestClock()
        let limiter = RateLimiter(.init(limit: 1, window: 60), maxKeys: 100, now: { clock.now })
        for n in 0..<100 { limiter.record("key \(n)") }
        #expect(limiter.keyCount == 100)
        limiter.record("one more")
        #expect(limiter.keyCount == 100)
        #expect(limiter.retryAfter("key 0") == nil)  // evicted, the oldest
        #expect(limiter.retryAfter("one more") != nil)
        clock.advance(by: 61)
        limiter.record("after the window")
        #expect(limiter.keyCount == 1)
        let long = String(repeating: "x", count: 100_000)
        limiter.record(long)
        #expect(limiter.retryAfter(long) != nil)
        #expect(limiter.retryAfter(String(repeating: "x", count: 99_999)) == nil)
    }
}
