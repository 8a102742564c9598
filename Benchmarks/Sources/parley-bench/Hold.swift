import ArgumentParser
import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// `parley-bench hold`: the worker process of `connections`. Reads its assignment (the users'
/// tokens) as a JSON line on standard input, opens its connections in batches, reports, then
/// answers `collect` (what the connections received) and `close` on standard input.
struct Hold: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Worker of `connections`: holds a share of the connections (not for direct use).",
        shouldDisplay: false
    )

    @OptionGroup var servers: ServerOptions

    @Option(help: "Global number of this worker's first connection.")
    var first = 0

    @Option(help: "Connections to open (1…19000).")
    var connections: Int

    @Option(help: "Connections opened at once.")
    var batch = 250

    @Option(help: "Source address of the connections.")
    var sourceAddress: String?

    func validate() throws {
        try require(connections, in: 1...19_000, "connections")
        try require(batch, in: 1...2000, "batch")
    }

    func run() async throws {
        raiseDescriptorLimit()
        let input = StandardInput.lines()
        var commands = input.makeAsyncIterator()
        guard let line = await commands.next() else { throw BenchError("no assignment on standard input") }
        let assignment = try JSONDecoder().decode(HoldAssignment.self, from: Data(line.utf8))
        guard !assignment.tokens.isEmpty else { throw BenchError("the assignment has no tokens") }
        let nodes = try servers.nodes
        let dialer = Dialer(threads: System.coreCount)
        try await dialer.begin(epoch: 1, capacity: 1)

        let started = Monotonic.now()
        var channels: [any Channel] = []
        var failed = 0
        var firstError: String?
        for start in stride(from: 0, to: connections, by: batch) {
            await withTaskGroup(of: Result<any Channel, any Error>.self) { group in
                for offset in start..<min(start + batch, connections) {
                    let number = first + offset
                    group.addTask {
                        do {
                            return .success(
                                try await dialer.connect(
                                    number,
                                    to: nodes[number % nodes.count],
                                    token: assignment.tokens[number % assignment.tokens.count],
                                    from: sourceAddress
                                )
                            )
                        } catch {
                            return .failure(error)
                        }
                    }
                }
                for await result in group {
                    switch result {
                    case .success(let channel): channels.append(channel)
                    case .failure(let error):
                        failed += 1
                        firstError = firstError ?? "\(error)"
                    }
                }
            }
        }
        try answer(HoldReport(opened: channels.count, failed: failed, seconds: Double(Monotonic.now() - started) / 1e9, firstError: firstError))

        var sent = Bitset(capacity: 1)
        _ = sent.insert(0)
        while let command = await commands.next() {
            switch command {
            case "collect":
                let deadline = Monotonic.now() + 30_000_000_000
                var totals = try await dialer.collect(sent: sent)
                while totals.copies + totals.closed < channels.count, Monotonic.now() < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                    totals = try await dialer.collect(sent: sent)
                }
                try answer(totals)
            case "close":
                await dialer.shutdown(closing: channels)
                return
            default:
                throw BenchError("unknown command '\(command)'")
            }
        }
        await dialer.shutdown(closing: channels)
    }

    private func answer(_ value: some Encodable) throws {
        FileHandle.standardOutput.write(try JSONEncoder().encode(value) + Data("\n".utf8))
    }

    /// Lifts the soft limit on open descriptors to the hard one.
    private func raiseDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}

/// What a `hold` worker is given on standard input.
struct HoldAssignment: Codable {
    /// Access tokens; connection n uses token n mod count.
    var tokens: [String]
}

/// What a `hold` worker reports once its connections are open.
struct HoldReport: Codable {
    var opened: Int
    var failed: Int
    var seconds: Double
    var firstError: String?
}

/// Lines of standard input, read on a thread of their own.
enum StandardInput {
    static func lines() -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream<String>.makeStream()
        Thread.detachNewThread {
            while let line = readLine() { continuation.yield(line) }
            continuation.finish()
        }
        return stream
    }
}

/// A `hold` worker as the coordinator sees it: JSON lines in and out.
final class WorkerProcess {
    private let process = Process()
    private let input = Pipe()
    private var lines: AsyncStream<String>.Iterator

    init(arguments: [String], input assignment: some Encodable) throws {
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        let (stream, continuation) = AsyncStream<String>.makeStream()
        lines = stream.makeAsyncIterator()
        let reader = output.fileHandleForReading
        Thread.detachNewThread {
            var pending = Data()
            while case let chunk = reader.availableData, !chunk.isEmpty {
                pending.append(chunk)
                while let end = pending.firstIndex(of: 10) {
                    continuation.yield(String(decoding: pending[pending.startIndex..<end], as: UTF8.self))
                    pending.removeSubrange(pending.startIndex...end)
                }
            }
            continuation.finish()
        }
        try process.run()
        try send(line: String(decoding: try JSONEncoder().encode(assignment), as: UTF8.self))
    }

    /// The next JSON line the worker printed.
    func next<T: Decodable>(_ type: T.Type) async throws -> T {
        guard let line = await lines.next() else { throw BenchError("a worker exited early; its errors are above") }
        return try JSONDecoder().decode(T.self, from: Data(line.utf8))
    }

    func send(line: String) throws {
        try input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
    }

    func waitUntilExit() async {
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
    }

    func terminate() {
        if process.isRunning { process.terminate() }
    }
}
