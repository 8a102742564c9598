import Synchronization

/// A fixed set of small integers, one bit each.
struct Bitset: Sendable {
    private var words: [UInt64]
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        words = [UInt64](repeating: 0, count: (capacity + 63) / 64)
    }

    /// Adds `index`; false when it was already there.
    mutating func insert(_ index: Int) -> Bool {
        let (word, bit) = (index / 64, UInt64(1) << UInt64(index % 64))
        guard words[word] & bit == 0 else { return false }
        words[word] |= bit
        return true
    }

    var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Members of this set that `other` lacks.
    func count(notIn other: Bitset) -> Int {
        var missing = 0
        for index in words.indices {
            let theirs = index < other.words.count ? other.words[index] : 0
            missing += (words[index] & ~theirs).nonzeroBitCount
        }
        return missing
    }
}

/// Counts copies across event loops, so a scenario can wait until every expected copy arrived.
final class CopyCounter: Sendable {
    private let value = Atomic<Int>(0)
    func add() { value.add(1, ordering: .relaxed) }
    func reset() { value.store(0, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}
