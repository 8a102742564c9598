package import Foundation
import Synchronization

/// Counts events per key in fixed windows and says how long to wait once a key has used its budget.
///
/// Counters live in this process: with several nodes each keeps its own, so the effective budget is
/// at most the budget times the number of nodes.
package final class RateLimiter: Sendable {
    /// A budget: at most `limit` events per `window` seconds.
    package struct Rule: Sendable {
        package var limit: Int
        package var window: TimeInterval

        package init(limit: Int, window: TimeInterval) {
            self.limit = limit
            self.window = window
        }
    }

    package let rule: Rule
    private let now: @Sendable () -> Date
    private let windows = Mutex<[String: (start: Date, count: Int)]>([:])

    package init(_ rule: Rule, now: @escaping @Sendable () -> Date) {
        self.rule = rule
        self.now = now
    }

    /// Whole seconds to wait when `key` has no budget left in its window; nil when it has.
    package func retryAfter(_ key: String) -> Int? {
        let now = now()
        return windows.withLock { windows in
            guard let window = windows[key], now.timeIntervalSince(window.start) < rule.window,
                window.count >= rule.limit
            else { return nil }
            return max(1, Int((window.start.addingTimeInterval(rule.window).timeIntervalSince(now)).rounded(.up)))
        }
    }

    /// Counts one event against `key`.
    package func record(_ key: String) {
        let now = now()
        windows.withLock { windows in
            if windows.count > 50_000 {
                windows = windows.filter { now.timeIntervalSince($0.value.start) < rule.window }
            }
            if let window = windows[key], now.timeIntervalSince(window.start) < rule.window {
                windows[key] = (window.start, window.count + 1)
            } else {
                windows[key] = (now, 1)
            }
        }
    }

    /// Forgets `key`'s count, as after a successful login.
    package func reset(_ key: String) {
        _ = windows.withLock { $0.removeValue(forKey: key) }
    }
}

/// The budgets that protect logins and password resets.
package struct RateLimits: Sendable {
    /// Wrong passwords per account (by login name or email, and for a password change).
    package var failedLoginsPerAccount = RateLimiter.Rule(limit: 10, window: 15 * 60)
    /// Wrong passwords per client address, across accounts.
    package var failedLoginsPerAddress = RateLimiter.Rule(limit: 50, window: 15 * 60)
    /// Password-reset requests per client address.
    package var passwordResetsPerAddress = RateLimiter.Rule(limit: 5, window: 60 * 60)

    package init() {}
}
