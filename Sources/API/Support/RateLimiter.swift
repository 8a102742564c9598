import Crypto
import DequeModule
package import Foundation
import Synchronization

/// Counts events per key in fixed windows and says how long to wait once a key has used its budget.
///
/// Memory is bounded: keys longer than 128 bytes are counted under their SHA-256, windows that have
/// passed are dropped oldest first as new ones open (amortized constant time), and past `maxKeys`
/// the oldest window is dropped even if it has not passed. Counters live in this process: with
/// several nodes each keeps its own, so the effective budget is at most the budget times the nodes.
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

    private struct Window {
        var start: Date
        var count: Int
    }

    private struct State {
        var windows: [String: Window] = [:]
        /// Each window's key and start, oldest first, for expiry.
        var opened = Deque<(key: String, start: Date)>()
    }

    package let rule: Rule
    private let maxKeys: Int
    private let now: @Sendable () -> Date
    private let state = Mutex(State())

    package init(_ rule: Rule, maxKeys: Int = 100_000, now: @escaping @Sendable () -> Date) {
        self.rule = rule
        self.maxKeys = maxKeys
        self.now = now
    }

    /// Counts one event against `key` if its budget allows: nil when counted, else whole seconds to wait.
    package func take(_ key: String) -> Int? {
        let key = Self.bounded(key)
        let now = now()
        return state.withLock { state in
            expire(&state, now: now)
            if let wait = retryAfter(state.windows[key], now: now) { return wait }
            count(&state, key: key, now: now)
            return nil
        }
    }

    /// Whole seconds to wait when `key` has no budget left in its window; nil when it has.
    package func retryAfter(_ key: String) -> Int? {
        let key = Self.bounded(key)
        let now = now()
        return state.withLock { retryAfter($0.windows[key], now: now) }
    }

    /// Counts one event against `key`, whatever its budget.
    package func record(_ key: String) {
        let key = Self.bounded(key)
        let now = now()
        state.withLock { state in
            expire(&state, now: now)
            count(&state, key: key, now: now)
        }
    }

    /// Takes back one event counted against `key`, as for an attempt that turned out well.
    package func giveBack(_ key: String) {
        let key = Self.bounded(key)
        state.withLock { state in
            if let window = state.windows[key], window.count > 0 { state.windows[key]?.count = window.count - 1 }
        }
    }

    /// Forgets `key`'s count, as after a successful login.
    package func reset(_ key: String) {
        let key = Self.bounded(key)
        _ = state.withLock { $0.windows.removeValue(forKey: key) }
    }

    /// How many keys are counted now.
    package var keyCount: Int { state.withLock { $0.windows.count } }

    // MARK: - Windows

    private func retryAfter(_ window: Window?, now: Date) -> Int? {
        guard let window, now.timeIntervalSince(window.start) < rule.window, window.count >= rule.limit else { return nil }
        return max(1, Int(window.start.addingTimeInterval(rule.window).timeIntervalSince(now).rounded(.up)))
    }

    private func count(_ state: inout State, key: String, now: Date) {
        if let window = state.windows[key], now.timeIntervalSince(window.start) < rule.window {
            state.windows[key]?.count = window.count + 1
            return
        }
        if state.windows[key] == nil, state.windows.count >= maxKeys, let oldest = state.opened.popFirst() {
            if state.windows[oldest.key]?.start == oldest.start { state.windows[oldest.key] = nil }
        }
        state.windows[key] = Window(start: now, count: 1)
        state.opened.append((key, now))
    }

    /// Drops the windows that have passed, oldest first; stops at the first that has not.
    private func expire(_ state: inout State, now: Date) {
        while let oldest = state.opened.first, now.timeIntervalSince(oldest.start) >= rule.window {
            state.opened.removeFirst()
            if state.windows[oldest.key]?.start == oldest.start { state.windows[oldest.key] = nil }
        }
    }

    static func bounded(_ key: String) -> String {
        guard key.utf8.count > 128 else { return key }
        return "sha256:" + SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// The budgets that protect password hashing, logins, registrations and password resets.
///
/// Login attempts are counted before the password is checked, so a burst of parallel guesses
/// cannot slip past a budget while the hashes run. Three budgets apply at once: per account and
/// client address (the tight one: whoever guesses from one address is stopped there, without
/// locking the owner out from theirs), per account across addresses (a slower one against guesses
/// spread over many addresses), and per address across accounts. A successful login takes its
/// attempt back and clears its account-and-address count.
package struct RateLimits: Sendable {
    /// Login attempts per account from one client address (also wrong current passwords).
    package var loginsPerAccountAndAddress = RateLimiter.Rule(limit: 10, window: 15 * 60)
    /// Login attempts per account from all addresses together.
    package var loginsPerAccount = RateLimiter.Rule(limit: 100, window: 60 * 60)
    /// Login attempts per client address, across accounts.
    package var loginsPerAddress = RateLimiter.Rule(limit: 50, window: 15 * 60)
    /// Registrations per client address.
    package var registrationsPerAddress = RateLimiter.Rule(limit: 20, window: 60 * 60)
    /// Password-reset requests per client address.
    package var passwordResetsPerAddress = RateLimiter.Rule(limit: 5, window: 60 * 60)
    /// Images one user may upload.
    package var uploadsPerUser = RateLimiter.Rule(limit: 100, window: 60 * 60)
    /// Verification mails one user may ask for again.
    package var verificationResendsPerUser = RateLimiter.Rule(limit: 3, window: 60 * 60)

    package init() {}
}
