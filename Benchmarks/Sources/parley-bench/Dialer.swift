import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// Opens realtime connections over its own event loops and gathers what they received.
final class Dialer: Sendable {
    let group: MultiThreadedEventLoopGroup
    private let loops: [any EventLoop]
    private let tallies: [NIOLoopBound<LoopTally>]
    let uniqueCopies = CopyCounter()

    init(threads: Int) {
        group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        loops = Array(group.makeIterator())
        let uniqueCopies = uniqueCopies
        tallies = loops.map { loop in
            try! loop.submit { NIOLoopBound(LoopTally(uniqueCopies: uniqueCopies), eventLoop: loop) }.wait()
        }
    }

    /// Connects to `node`'s realtime endpoint as the owner of `token`, from `sourceAddress` when
    /// given, and returns once the server said `resumed`: from then on the connection counts.
    func connect(_ number: Int, to node: Node, token: String, from sourceAddress: String? = nil) async throws -> any Channel {
        let loop = loops[number % loops.count]
        let tally = tallies[number % loops.count]
        let ready = loop.makePromise(of: Void.self)
        var bootstrap = ClientBootstrap(group: loop).connectTimeout(.seconds(10))
        if let sourceAddress { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: sourceAddress, port: 0)) }
        let address = try SocketAddress(ipAddress: node.host, port: node.port)
        let upgraded: EventLoopFuture<(any Channel)?> = try await bootstrap.connect(to: address) { channel in
            channel.eventLoop.makeCompletedFuture {
                let upgrader = NIOTypedWebSocketClientUpgrader<(any Channel)?>(maxFrameSize: 1 << 20) { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(DeliverySocket(tally: tally.value, ready: ready))
                        return channel
                    }
                }
                var headers = HTTPHeaders()
                headers.add(name: "Host", value: "\(node.host):\(node.port)")
                headers.add(name: "Authorization", value: "Bearer \(token)")
                let request = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/api/v1/realtime", headers: headers)
                let upgrade = NIOTypedHTTPClientUpgradeConfiguration<(any Channel)?>(
                    upgradeRequestHead: request,
                    upgraders: [upgrader],
                    notUpgradingCompletionHandler: { channel in
                        channel.close(promise: nil)
                        return channel.eventLoop.makeSucceededFuture(nil)
                    }
                )
                // The server's `hello` may arrive in the same read as the 101: keep those bytes
                // (NIO drops them by default).
                var configuration = NIOUpgradableHTTPClientPipelineConfiguration(upgradeConfiguration: upgrade)
                configuration.leftOverBytesStrategy = .forwardBytes
                return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(configuration: configuration)
            }
        }
        guard let channel = try await upgraded.get() else {
            ready.fail(BenchError("refused"))
            throw BenchError("the server refused the WebSocket upgrade")
        }
        do {
            try await ready.futureResult.get()
        } catch {
            channel.close(promise: nil)
            throw error
        }
        return channel
    }

    /// Starts counting step `epoch`, of at most `capacity` messages, on every loop.
    func begin(epoch: Int, capacity: Int) async throws {
        uniqueCopies.reset()
        for (loop, tally) in zip(loops, tallies) {
            try await loop.submit { tally.value.begin(epoch: epoch, capacity: capacity) }.get()
        }
    }

    /// What every loop counted in the current step; copies of `sent` a connection lacks are lost.
    func collect(sent: Bitset) async throws -> DeliveryTotals {
        var totals = DeliveryTotals()
        for (loop, tally) in zip(loops, tallies) {
            let part = try await loop.submit {
                let tally = tally.value
                return DeliveryTotals(
                    latencies: tally.latencies,
                    copies: tally.copies,
                    lost: tally.missing(of: sent),
                    duplicates: tally.duplicates,
                    unexpected: tally.unexpected,
                    stale: tally.stale,
                    closed: tally.closed,
                    lastDelivery: tally.lastDelivery
                )
            }.get()
            totals.merge(part)
        }
        return totals
    }

    /// Closes `channels` with 1000 and stops the event loops.
    func shutdown(closing channels: [any Channel]) async {
        for channel in channels { DeliverySocket.close(channel) }
        for channel in channels { try? await channel.closeFuture.get() }
        try? await group.shutdownGracefully()
    }
}

/// The copies of one step, summed over loops (and over processes).
struct DeliveryTotals: Codable, Sendable {
    var latencies = Latencies()
    var copies = 0
    var lost = 0
    var duplicates = 0
    var unexpected = 0
    var stale = 0
    var closed = 0
    var lastDelivery: UInt64 = 0

    mutating func merge(_ other: DeliveryTotals) {
        latencies.merge(other.latencies)
        copies += other.copies
        lost += other.lost
        duplicates += other.duplicates
        unexpected += other.unexpected
        stale += other.stale
        closed += other.closed
        lastDelivery = max(lastDelivery, other.lastDelivery)
    }
}
