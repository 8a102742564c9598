import NIOCore
import NIOWebSocket

/// What the connections of one event loop received in the current step. Only that loop touches
/// it, so counting a delivery takes no lock.
final class LoopTally {
    /// The step being counted; messages of other steps are `stale`.
    var epoch = -1
    /// Messages the step may send: indexes at or past it are `unexpected`.
    var capacity = 0
    var latencies = Latencies()
    var copies = 0
    var duplicates = 0
    var unexpected = 0
    var stale = 0
    /// Connections that closed after they were ready.
    var closed = 0
    /// Monotonic time of the last copy delivered.
    var lastDelivery: UInt64 = 0
    var sockets: [DeliverySocket] = []
    let uniqueCopies: CopyCounter

    init(uniqueCopies: CopyCounter) {
        self.uniqueCopies = uniqueCopies
    }

    func begin(epoch: Int, capacity: Int) {
        self.epoch = epoch
        self.capacity = capacity
        latencies.reset()
        (copies, duplicates, unexpected, stale, lastDelivery) = (0, 0, 0, 0, 0)
    }

    /// Copies the open-or-closed sockets of this loop should have received but did not.
    func missing(of sent: Bitset) -> Int {
        sockets.reduce(0) { $0 + $1.missing(of: sent, epoch: epoch) }
    }
}

/// One realtime connection of the load tool: it answers `hello` with an empty `resume` (start
/// live delivery now), reports `resumed` as ready, answers pings, and counts every bench message
/// it receives into its loop's tally, with its latency.
final class DeliverySocket: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let tally: LoopTally
    private let ready: EventLoopPromise<Void>
    private var isReady = false
    private var saidHello = false
    private var readyTimeout: Scheduled<Void>?
    private var seenEpoch = -1
    private var seen = Bitset(capacity: 0)
    private var fragments: ByteBuffer?
    private(set) var closeCode: UInt16?

    private static let hello = Array(#""type":"hello""#.utf8)
    private static let resumed = Array(#""type":"resumed""#.utf8)

    init(tally: LoopTally, ready: EventLoopPromise<Void>) {
        self.tally = tally
        self.ready = ready
    }

    func handlerAdded(context: ChannelHandlerContext) {
        tally.sockets.append(self)
        readyTimeout = context.eventLoop.scheduleTask(in: .seconds(10)) { [self] in
            let error = BenchError(saidHello ? "no `resumed` within 10 s of `resume`" : "no `hello` within 10 s of the upgrade")
            ready.fail(error)
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text where frame.fin:
            received(frame.unmaskedData, context: context)
        case .text:
            fragments = frame.unmaskedData
        case .continuation:
            guard var buffer = fragments else { return }
            var data = frame.unmaskedData
            buffer.writeBuffer(&data)
            if frame.fin {
                fragments = nil
                received(buffer, context: context)
            } else {
                fragments = buffer
            }
        case .ping:
            write(.pong, frame.unmaskedData, context: context)
        case .connectionClose:
            var data = frame.unmaskedData
            closeCode = data.readInteger(as: UInt16.self)
            write(.connectionClose, ByteBuffer(integer: UInt16(1000)), context: context)
            context.close(promise: nil)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        readyTimeout?.cancel()
        if isReady {
            tally.closed += 1
        } else {
            ready.fail(BenchError("the connection closed before it was ready (close code \(closeCode.map(String.init) ?? "none"))"))
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Sends a close frame and closes.
    static func close(_ channel: any Channel) {
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: ByteBuffer(integer: UInt16(1000)))
        channel.writeAndFlush(frame).whenComplete { _ in channel.close(promise: nil) }
    }

    private func write(_ opcode: WebSocketOpcode, _ data: ByteBuffer, context: ChannelHandlerContext) {
        let frame = WebSocketFrame(fin: true, opcode: opcode, maskKey: .random(), data: data)
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    private func received(_ text: ByteBuffer, context: ChannelHandlerContext) {
        let now = Monotonic.now()
        let body = text.withUnsafeReadableBytes { bytes -> (epoch: Int, index: Int, sentAt: UInt64)? in
            if isReady { return BenchBody.parse(bytes) }
            if BenchBody.contains(bytes, Self.hello) {
                saidHello = true
                write(.text, ByteBuffer(string: #"{"type":"resume","cursors":{}}"#), context: context)
            } else if BenchBody.contains(bytes, Self.resumed) {
                isReady = true
                readyTimeout?.cancel()
                ready.succeed()
            }
            return nil
        }
        guard let body else { return }
        guard body.epoch == tally.epoch else {
            tally.stale += 1
            return
        }
        if seenEpoch != body.epoch {
            seenEpoch = body.epoch
            seen = Bitset(capacity: tally.capacity)
        }
        guard body.index < seen.capacity else {
            tally.unexpected += 1
            return
        }
        guard seen.insert(body.index) else {
            tally.duplicates += 1
            return
        }
        tally.copies += 1
        tally.latencies.record(nanoseconds: now > body.sentAt ? now - body.sentAt : 0)
        tally.lastDelivery = now
        tally.uniqueCopies.add()
    }

    /// The messages of `sent` this connection did not receive in step `epoch`.
    func missing(of sent: Bitset, epoch: Int) -> Int {
        seenEpoch == epoch ? sent.count(notIn: seen) : sent.count
    }
}
