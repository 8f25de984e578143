import Logging
import NIOCore
import SwitchboardCore

/// Runs a ``WebSocketEngine`` on the event loop: the whole hot path (parsing,
/// unmasking, UTF-8, control frames, extensions) stays here, and messages go
/// up to the async side a read batch at a time.
///
/// Messages go to the application's reader through an ``InboundBuffer``;
/// while it is full, the handler holds back the channel's reads.
///
/// Writes produced while handling a read (pongs, close answers) are flushed
/// once, at `channelReadComplete`. What the application sends arrives through
/// an ``OutboundQueue``: the handler drains it a batch at a time, with one
/// flush per batch, and tells it when the channel's writability changes.
final class WebSocketChannelHandler: ChannelDuplexHandler, RemovableChannelHandler, ConnectionSink, ConnectionTimerDelegate {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = WebSocketOutboundCommand
    typealias OutboundOut = ByteBuffer

    private var engine: WebSocketEngine
    /// ``WebSocketConnectionConfiguration/decodedBytesPerTurn``: the one setting read after
    /// `init` (a whole configuration here was about 170 B of every connection).
    private let decodedBytesPerTurn: Int
    private let logger: Logger
    private let outbound: OutboundQueue
    /// The application's messages (unused when the connection carries sessions: each has its own).
    let inbound: InboundBuffer
    /// When reads and decoding may go on (the reader, pending answers, a close under way, undecoded bytes).
    private var gate = ReadGate()
    /// A task to parse the gate's undecoded bytes is queued on the event loop.
    private var parseScheduled = false
    /// The connection failed and its output is closed; it closes once the peer closes or the linger ends.
    private var lingering = false
    /// The outbound queue's drain waits for `channelReadComplete` (``OutboundQueue/holdDrainUntilReadComplete()``).
    private var drainHeld = false
    /// Inside ``drainOutbound(context:)``: a writability change now comes from its own flush, not from a poll.
    private var draining = false
    private var needsFlush = false
    /// The handler has returned; messages that still arrive have no reader.
    private var applicationDone = false
    /// A message was dropped after our close because the reader's buffer was full (logged once).
    private var droppedWhileClosing = false
    private var receivedClose: WebSocketCloseFrame?
    /// The heartbeat, idle, memory-release and close clocks.
    private let timers: ConnectionTimers
    /// Completed when the channel closes, with the peer's close frame if one arrived.
    let peerClose: EventLoopPromise<WebSocketCloseFrame?>
    /// When a session extension was negotiated: every data message goes to its carrier.
    var sessions: SessionHost?
    /// A handler that runs here, in the read, once per message (``WebSocketLoopHandler``), with its context.
    var loopHandler: (handler: any WebSocketLoopHandler, context: WebSocketContext)?
    /// A loop handler's answers were written during this parse (each past ``loopAnswerBatchBytes``).
    private var loopAnswersWritten = false
    /// The executor the application's reader runs on, when it is this loop's: the reader then
    /// runs when the read is complete, before the drain (see ``EventLoopTaskExecutor``).
    var readerExecutor: EventLoopTaskExecutor?
    private var context: ChannelHandlerContext?
    private let metrics: ConnectionMetrics
    /// Counted as open in ``metrics`` (once, whichever of the channel's ends comes first says closed).
    private var countedOpen = false

    init(
        engine: WebSocketEngine, configuration: WebSocketConnectionConfiguration, outbound: OutboundQueue, logger: Logger,
        peerClose: EventLoopPromise<WebSocketCloseFrame?>, eventLoop: any EventLoop, metrics: ConnectionMetrics
    ) {
        self.metrics = metrics
        self.engine = engine
        self.outbound = outbound
        self.inbound = InboundBuffer(
            bufferedMessages: configuration.inboundBufferedMessages,
            bufferedBytes: configuration.inboundBufferedBytes)
        self.engine.maxOutgoingFrameSize = configuration.maxOutgoingFrameSize
        self.timers = ConnectionTimers(configuration: configuration, releasesMemory: !engine.extensionNames.isEmpty, eventLoop: eventLoop)
        self.decodedBytesPerTurn = configuration.decodedBytesPerTurn
        self.logger = logger
        self.peerClose = peerClose
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        countedOpen = true
        metrics.connectionOpened()
        timers.start(delegate: self)
        // The queue holds this handler until `detach()`, which handlerRemoved and channelInactive call.
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        outbound.attach {
            let (handler, context) = bound.value
            handler.drainOutbound(context: context)
        }
        // Held by the buffer until it finishes, which channelInactive and handlerRemoved see to.
        let loop = context.eventLoop
        inbound.onDemand {
            loop.execute {
                let (handler, context) = bound.value
                handler.resumeReading(context: context)
            }
        }
    }

    private func countClosed() {
        guard countedOpen else { return }
        countedOpen = false
        metrics.connectionClosed()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        countClosed()
        timers.stopAll()
        self.context = nil
        outbound.detach()
        inbound.finish()
        readerExecutor?.runHeldJobs()
        // Normally done by channelInactive; a handler removed without it must not leave the
        // connection's task waiting for the close forever.
        peerClose.succeed(receivedClose)
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if var held = gate.unparsed {
            // Reads already under way when reading paused: their bytes go after the held ones.
            gate.unparsed = nil
            held.writeBuffer(&buffer)
            buffer = held
        }
        parse(&buffer, context: context)
    }

    /// Parses `buffer` while the application's reader keeps up, and keeps what is left.
    ///
    /// The engine takes every byte it parses (an incomplete header or payload waits inside
    /// it). Once the reader's buffer is full, the rest of the read waits here undecoded: one
    /// read is a few kilobytes, but with permessage-deflate each kilobyte can decode to a
    /// megabyte, and decoding it all would put hundreds of megabytes in front of a reader
    /// that does not read. For the same reason one turn of the event loop decodes at most
    /// ``WebSocketConnectionConfiguration/decodedBytesPerTurn``: the rest is parsed in a
    /// later turn, and the loop's other connections are served in between.
    private func parse(_ buffer: inout ByteBuffer, context: ChannelHandlerContext) {
        // After a failure or a finished close handshake nothing more is parsed: drop the bytes
        // rather than hold them until the connection closes.
        guard readsInput else { return }
        if !drainHeld, sessions == nil { drainHeld = outbound.holdDrainUntilReadComplete() }
        var decoded = 0
        while gate.mayDecode, decoded < decodedBytesPerTurn, let event = engine.receive(from: &buffer) {
            if case .message(let message) = event { decoded += message.data.readableBytes }
            handle(event, context: context)
        }
        if buffer.readableBytes > 0, readsInput {
            gate.unparsed = buffer
            if gate.mayDecode { scheduleParse(context: context) }  // stopped for the turn's budget, not for the reader
        }
        // What a read makes us write by itself (pongs, a session carrier's replies) is not
        // held back by the application's sends; against a peer that does not read, it is held
        // back here instead (``ReadGate``).
        if writeOutbound(context: context, promise: nil) || loopAnswersWritten {
            loopAnswersWritten = false
            gate.answersWritten(socketWritable: context.channel.isWritable)
        }
    }

    /// Whether what the peer sends is still parsed: not after a failure or a finished close handshake.
    private var readsInput: Bool { engine.failure == nil && (engine.closeState == .open || engine.closeState == .closeSent) }

    /// Parses the bytes held back (for a reader that was behind, or past a turn's budget) as a
    /// read would, flushes what that produced, and reads on once none are left. Runs outside any read.
    private func parseHeldInput(context: ChannelHandlerContext) {
        guard var buffer = gate.unparsed, gate.mayDecode else { return }
        gate.unparsed = nil
        parse(&buffer, context: context)
        readerExecutor?.runHeldJobs()
        if drainHeld {
            drainHeld = false
            drainOutbound(context: context)  // flushes
        }
        flushIfNeeded(context: context)
        issuePendingRead(context: context)
    }

    /// Parses the held bytes in a later turn of the event loop.
    private func scheduleParse(context: ChannelHandlerContext) {
        guard !parseScheduled else { return }
        parseScheduled = true
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let (handler, context) = bound.value
            handler.parseScheduled = false
            guard handler.context != nil else { return }  // removed meanwhile
            handler.parseHeldInput(context: context)
        }
    }

    private func handle(_ event: WebSocketEvent, context: ChannelHandlerContext) {
        switch event {
        case .message(let message):
            timers.noteActivity(closing: gate.closing)
            metrics.received(message)
            if let sessions {
                sessions.receive(message)
            } else if let loopHandler {
                if !applicationDone { loopHandler.handler.received(message, on: WebSocketLoopConnection(self)) }
            } else if applicationDone {
                break
            } else if gate.readerBehind && gate.closing {
                // Our close is out and reads go on regardless of the reader, to see the peer's
                // answer: what the peer sent before it saw our close is still kept, up to twice
                // the buffer's bound; past that it is dropped.
                if !deliverWhileClosing(message) {
                    if !droppedWhileClosing { logger.info("dropping messages that arrive after our close, past twice the inbound buffer") }
                    droppedWhileClosing = true
                }
            } else if !deliver(message) {
                gate.readerFellBehind()
                metrics.readerPaused()
            }
        case .ping:
            break  // the engine queued the pong
        case .pong(let payload):
            if timers.awaitingPong, let sent = Self.heartbeatSendTime(payload) {
                metrics.pingAnswered(after: Int64(truncatingIfNeeded: NIODeadline.now().uptimeNanoseconds &- sent))
            }
            timers.pongReceived()
        case .closed(let frame):
            receivedClose = frame
            metrics.close(frame.code, sent: false)
            sessions?.connectionClosed()
            outbound.closeStateChanged(engine.closeState)
            logger.debug("peer closed", metadata: ["code": "\(frame.code.map(String.init(describing:)) ?? "none")", "reason": "\(frame.reason)"])
            if engine.closeState == .closeReceived {
                // The peer closed first: end the application's inbound stream and answer once it
                // has replied to what came before the close (or when the close timeout fires).
                timers.stopLiveness()
                gate.closeStarted()
                inbound.finish()
                timers.startCloseTimeout()
                if loopHandler != nil { startClose(code: .normalClosure, reason: "", context: context) }  // nothing to wait for
            } else {
                finishClosing(context: context)
            }
        case .failed(let error):
            // Messages before the fault are still with the application: end its inbound
            // stream and send the error's close once it has answered them (or on timeout).
            logger.info("peer broke the protocol", metadata: ["code": "\(error.closeCode)", "error": "\(error.reason)"])
            sessions?.connectionClosed()
            timers.stopLiveness()
            inbound.finish(throwing: WebSocketError.connectionClosed)
            timers.startCloseTimeout()
            if loopHandler != nil { startClose(code: .protocolError, reason: "", context: context) }  // fails with the error's code
        }
    }

    /// Hands `message` to the application's reader; returns whether reading may go on.
    private func deliver(_ message: WebSocketMessage) -> Bool {
        guard let readerExecutor else { return inbound.yield(message) }
        return readerExecutor.holdingJobs { inbound.yield(message) }
    }

    private func deliverWhileClosing(_ message: WebSocketMessage) -> Bool {
        guard let readerExecutor else { return inbound.yieldWhileClosing(message) }
        return readerExecutor.holdingJobs { inbound.yieldWhileClosing(message) }
    }

    /// Both close frames are out: a server drops TCP now; a client gives the server `closeTimeout` to do it (§7.1.1).
    private func finishClosing(context: ChannelHandlerContext) {
        writeOutbound(context: context, promise: nil)
        flushIfNeeded(context: context)
        timers.stopLiveness()
        if engine.role == .server {
            context.close(promise: nil)
        } else {
            gate.closeStarted()
            timers.startCloseTimeout()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        readerExecutor?.runHeldJobs()
        if drainHeld {
            drainHeld = false
            drainOutbound(context: context)  // flushes
        }
        flushIfNeeded(context: context)
        context.fireChannelReadComplete()
        if gate.closing { read(context: context) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        sessions?.connectionClosed()
        timers.stopAll()
        outbound.detach()
        // Dropped without a close frame: the reader's loop throws rather than ending as after a close.
        countClosed()
        inbound.finish(throwing: receivedClose == nil ? WebSocketError.connectionClosed : nil)
        readerExecutor?.runHeldJobs()
        peerClose.succeed(receivedClose)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Ours, or NIO's from a host server's `ServerQuiescingHelper` (Vapor's shutdown sends it).
        if event is GracefulShutdownEvent || event is ChannelShouldQuiesceEvent {
            startClose(code: .goingAway, reason: "server shutting down", context: context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if !context.channel.isWritable { metrics.peerPaused() }
        gate.socketWritabilityChanged(context.channel.isWritable)
        // Writable again inside a drain's flush: the drain tells the queue when it is done.
        if !draining { outbound.channelWritabilityChanged(context.channel.isWritable) }
        sessions?.writabilityChanged()
        issuePendingRead(context: context)
        context.fireChannelWritabilityChanged()
    }

    // MARK: Outbound

    /// A command written through the pipeline (the application's go through ``OutboundQueue``).
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        do {
            try perform(unwrapOutboundIn(data), context: context)
            writeOutbound(context: context, promise: promise)
        } catch {
            promise?.fail(error)
        }
    }

    /// Writes everything the application queued since the last drain, with one flush, then
    /// tells the queue whether the channel has room (which lets waiting senders go on).
    private func drainOutbound(context: ChannelHandlerContext) {
        draining = true
        defer { draining = false }
        for command in outbound.takeAll() {
            // A message that raced a close the event loop started (timeout, shutdown) is dropped:
            // the queue refuses the next ones.
            try? perform(command, context: context)
        }
        writeOutbound(context: context, promise: nil)
        flushIfNeeded(context: context)
        outbound.drained(channelWritable: context.channel.isWritable)
    }

    /// Hands one command to the engine; the bytes it produces are written by the caller (a close's
    /// by ``startClose(code:reason:context:)`` itself).
    private func perform(_ command: WebSocketOutboundCommand, context: ChannelHandlerContext) throws(WebSocketError) {
        switch command {
        case .message(let message):
            try engine.send(message)
            metrics.sent(message)
            timers.noteActivity(closing: gate.closing)
        case .ping(let payload):
            try engine.ping(payload)
        case .close(let code, let reason):
            startClose(code: code, reason: reason, context: context)
        case .finish(let code, let reason):
            applicationDone = true
            startClose(code: code, reason: reason, context: context)
        }
    }

    func flush(context: ChannelHandlerContext) {
        needsFlush = false
        context.flush()
    }

    /// Reads now, or once the ``ReadGate`` allows. With reads held while answers wait for the
    /// socket, those stay within the channel's write watermark and one read's worth of answers;
    /// reads that make no answers (what the application echoes is held back by its own sends)
    /// go on.
    func read(context: ChannelHandlerContext) {
        if gate.requestRead() { context.read() }
    }

    /// The reader took the buffer below its low watermarks: first what was read and held, then the socket.
    private func resumeReading(context: ChannelHandlerContext) {
        gate.readerCaughtUp()
        if gate.unparsed != nil { parseHeldInput(context: context) } else { issuePendingRead(context: context) }
    }

    /// Issues the read held back while reading was not allowed, once it is.
    private func issuePendingRead(context: ChannelHandlerContext) {
        if gate.takePendingRead() { context.read() }
    }

    private func startClose(code: WebSocketCloseCode, reason: String, context: ChannelHandlerContext) {
        defer { outbound.closeStateChanged(engine.closeState) }
        if let failure = engine.failure {
            // Fail the connection (§7.1.7): the failure's code, then end TCP without waiting for an answer.
            engine.close(code: failure.closeCode, reason: failure.reason)
            metrics.close(failure.closeCode, sent: true)
            writeOutbound(context: context, promise: nil)
            flushIfNeeded(context: context)
            closeLingering(context: context)
            return
        }
        if engine.closeState == .closeReceived {
            engine.close()  // answers the peer's close, echoing its code
            metrics.close(receivedClose?.code, sent: true, echoed: true)
            finishClosing(context: context)
            return
        }
        guard engine.close(code: code, reason: reason) else { return }
        metrics.close(code, sent: true)
        writeOutbound(context: context, promise: nil)
        flushIfNeeded(context: context)
        gate.closeStarted()
        timers.startCloseTimeout()
        // The peer's answer may be among the bytes held for a reader that was behind: they
        // are parsed first, and the read waits for them.
        if gate.unparsed != nil { scheduleParse(context: context) }
        read(context: context)
    }

    /// Writes what the engine has queued; returns whether there was anything.
    @discardableResult
    private func writeOutbound(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) -> Bool {
        // The promise goes with the last buffer: writes complete in order.
        var previous: ByteBuffer?
        engine.takeOutboundBuffers { buffer in
            if let previous { context.write(wrapOutboundOut(previous), promise: nil) }
            previous = buffer
        }
        guard let last = previous else {
            promise?.succeed()
            return false
        }
        needsFlush = true
        context.write(wrapOutboundOut(last), promise: promise)
        return true
    }

    private func flushIfNeeded(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
    }

    // MARK: ConnectionSink (a session carrier's writes)

    var isWritable: Bool { context?.channel.isWritable ?? false }

    func sendMessage(_ message: WebSocketMessage) {
        guard let context, (try? engine.send(message)) != nil else { return }
        metrics.sent(message)
        writeOutbound(context: context, promise: nil)
    }

    func flushPending() {
        guard let context else { return }
        flushIfNeeded(context: context)
    }

    func failConnection(code: WebSocketCloseCode, reason: String) {
        guard let context else { return }
        if engine.close(code: code, reason: reason) { metrics.close(code, sent: true) }
        writeOutbound(context: context, promise: nil)
        flushIfNeeded(context: context)
        closeLingering(context: context)
    }

    /// Ends TCP after a failure without losing what was just written: closing a socket with
    /// unread input sends a reset, and a peer's TCP drops what it received but its application
    /// has not read yet (Autobahn 3.4 lost the echo and the close frame that way, now and then).
    /// So the output is closed (FIN after the pending writes), what still arrives is read and
    /// dropped, and the connection closes when the peer closes its side, or after
    /// ``lingerAfterFailure`` at most. Where the output cannot be closed alone (TLS), it closes at once.
    private func closeLingering(context: ChannelHandlerContext) {
        guard !lingering else { return }
        lingering = true
        gate.closeStarted()
        let promise = context.eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenFailure { _ in context.close(promise: nil) }
        context.close(mode: .output, promise: promise)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: Self.lingerAfterFailure) { bound.value.close(promise: nil) }
        read(context: context)
    }

    /// How long a failed connection reads and drops what its peer still sends before it closes.
    /// 2 s: long enough for a peer to see our close frame and close its side, short enough that
    /// a peer that does not close holds the connection for a moment only.
    static let lingerAfterFailure: TimeAmount = .seconds(2)

    // MARK: ConnectionTimerDelegate

    func heartbeatDue() {
        guard let context, engine.closeState == .open, !timers.awaitingPong else { return }
        var payload = context.channel.allocator.buffer(capacity: 12)
        payload.writeInteger(UInt64(truncatingIfNeeded: NIODeadline.now().uptimeNanoseconds))
        payload.writeInteger(Self.heartbeatMark)
        guard (try? engine.ping(payload)) != nil else { return }
        writeOutbound(context: context, promise: nil)
        flushIfNeeded(context: context)
        timers.pingSent()
    }

    /// Tells our heartbeat's payload (its send time, then this mark) from a pong the peer sent
    /// unasked or to a ping of the application's.
    private static let heartbeatMark: UInt32 = 0x5342_5052  // "SBPR"

    /// The send time a heartbeat ping carried, if `payload` echoes one.
    private static func heartbeatSendTime(_ payload: ByteBuffer) -> UInt64? {
        guard payload.readableBytes == 12, payload.getInteger(at: payload.readerIndex + 8, as: UInt32.self) == heartbeatMark else { return nil }
        return payload.getInteger(at: payload.readerIndex, as: UInt64.self)
    }

    /// Closes with 1011, unless reads are held because the application is behind: the pong
    /// may then be waiting unread in the socket behind the peer's messages, and the deadline
    /// starts again instead of closing a live peer. Not when reads are held because the peer
    /// does not read: that peer is not keeping up (our ping may not even have reached it),
    /// and one that vanished must still be noticed.
    func pongOverdue() -> Bool {
        guard let context else { return false }
        if gate.pongMayWaitUnread { return true }
        logger.info("no pong within the ping timeout; closing with 1011")
        startClose(code: .internalServerError, reason: "keepalive ping timeout", context: context)
        return false
    }

    func idleTimedOut() {
        guard let context else { return }
        logger.info("idle timeout; closing with 1001")
        startClose(code: .goingAway, reason: "idle timeout", context: context)
    }

    func quietLongEnoughToReleaseMemory() { engine.releaseIdleMemory() }

    func closeTimedOut() {
        guard let context else { return }
        if engine.failure != nil && engine.closeState == .open {
            logger.info("the handler did not finish after a protocol error; failing the connection now")
            startClose(code: .protocolError, reason: "", context: context)
        } else if engine.closeState == .closeReceived {
            logger.info("the handler did not finish after the peer's close; answering it now")
            startClose(code: .normalClosure, reason: "", context: context)
        } else {
            logger.info("close handshake timed out; dropping the connection")
        }
        context.close(promise: nil)
    }
}

extension WebSocketChannelHandler: WebSocketLoopSink {
    /// Set whenever ``loopHandler`` is, the only case in which a ``WebSocketLoopConnection`` reaches this handler.
    var handlerContext: WebSocketContext { loopHandler!.context }

    /// Encoded now; written by the read that called the handler, with its other answers (``parse(_:context:)``).
    func send(_ message: WebSocketMessage) {
        guard !applicationDone, (try? engine.send(message)) != nil else { return }
        metrics.sent(message)
        timers.noteActivity(closing: gate.closing)
        // Small answers share one buffer and one write; past a few kilobytes they go out as
        // they are made. One buffer for a read's worth of large answers was copied as it grew,
        // and, past malloc's mmap threshold, mapped and unmapped per read: pipelined 16 KiB
        // echo ran at half the speed of the task-based handler.
        if engine.outboundByteCount >= Self.loopAnswerBatchBytes, let context, writeOutbound(context: context, promise: nil) {
            loopAnswersWritten = true
        }
    }

    /// The bytes of a loop handler's answers batched into one write.
    static let loopAnswerBatchBytes = 8 * 1024

    func close(_ code: WebSocketCloseCode, reason: String) {
        guard let context, !applicationDone else { return }
        applicationDone = true
        startClose(code: code, reason: reason, context: context)
    }
}
