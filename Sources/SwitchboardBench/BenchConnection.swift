import NIOCore
import SwitchboardCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// What every connection of one run sends, and how.
struct BenchLoad: Sendable {
    var payloads: BenchPayloads
    /// Messages kept in flight per connection: 1 for ping-pong, K for pipelined.
    var inFlight: Int
    /// Limits applied to the echoes when an extension is negotiated (the engine path).
    var limits: WebSocketLimits
    /// Longest the opening handshake may take.
    var handshakeTimeout: TimeAmount = .seconds(10)
    /// The messages pre-compressed for permessage-deflate, shared by the run's connections.
    var encodedFrames = BenchEncodedFrames()
}

/// Fired down every connection's pipeline when the run is over: stop sending,
/// wait for the echoes still in flight (checking them too), then close.
struct BenchStopEvent: Sendable {}

/// One load-generating connection, entirely on its event loop: no task, no
/// hop, no lock per message.
///
/// It sends the opening handshake built by ``WebSocketClientHandshake`` and
/// checks the answer with it, then keeps ``BenchLoad/inFlight`` messages in
/// flight: each echo that comes back is compared byte for byte with what was
/// sent and immediately replaced by the next message. Writes made while
/// handling one read are flushed once, at `channelReadComplete`.
///
/// With no extension negotiated (the default: the generator does not offer
/// permessage-deflate unless asked) it writes the pre-masked frames of
/// ``BenchPayloads`` and parses echoes with SwitchboardCore's ``FrameParser``
/// alone: the generator's work per message is a header parse and a `memcmp`.
/// With permessage-deflate it writes the variants compressed once (see
/// ``BenchEncodedFrames``), and a client ``WebSocketEngine`` decodes each echo,
/// whose bytes depend on the server's compression context. With any other
/// extension the engine also encodes each message.
final class BenchConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Phase {
        case handshaking
        /// Sending and checking.
        case running
        /// Stop asked for: no new messages; checking the ones in flight.
        case draining
        /// Our close frame is out; waiting for the server's.
        case closing
        case done
    }

    private let index: Int
    private let load: BenchLoad
    // Hot-path copies of what `load.payloads` holds, so that a message costs no struct copy.
    private let expectedPayloads: [ByteBuffer]
    /// The frames written per message: pre-masked, or pre-compressed once an extension is negotiated.
    private var frames: [ByteBuffer]
    /// Whether ``frames`` are written as they are; when false the engine encodes each message.
    private var sendsPreparedFrames = true
    private let size: Int
    private let kind: WebSocketMessage.Kind
    private let handshake: WebSocketClientHandshake
    private let boundRecorder: NIOLoopBound<BenchRecorder>
    private var recorder: BenchRecorder!
    private let ready: EventLoopPromise<[String]>

    private var phase = Phase.handshaking
    private var head: ByteBuffer?
    private var handshakeDeadline: Scheduled<Void>?
    private var parser: FrameParser
    private var engine: WebSocketEngine?
    private var needsFlush = false

    /// Send times of the messages in flight, by sequence number modulo ``BenchLoad/inFlight``.
    private var sendTimes: [UInt64]
    private var sent = 0
    private var received = 0
    /// Bytes of the echo in progress checked so far (an echo may come back in fragments).
    private var echoOffset = 0
    /// Why the echo in progress does not match, once it is known not to.
    private var echoFault: String?

    /// - Parameters:
    ///   - index: the connection's number; it picks which payload variant comes when.
    ///   - recorder: the counters of the event loop this connection runs on.
    ///   - ready: succeeds with the negotiated extensions once the handshake is checked.
    init(
        index: Int, load: BenchLoad, handshake: WebSocketClientHandshake, recorder: NIOLoopBound<BenchRecorder>,
        ready: EventLoopPromise<[String]>
    ) {
        self.index = index
        self.load = load
        self.expectedPayloads = load.payloads.payloads
        self.frames = load.payloads.frames
        self.size = load.payloads.size
        self.kind = load.payloads.kind
        self.handshake = handshake
        self.boundRecorder = recorder
        self.ready = ready
        self.parser = FrameParser(role: .client, maxFrameSize: load.limits.maxFrameSize)
        self.sendTimes = Array(repeating: 0, count: max(1, load.inFlight))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        recorder = boundRecorder.value  // resolved once, on this loop
        if context.channel.isActive { startHandshake(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        startHandshake(context: context)
        context.fireChannelActive()
    }

    // MARK: Handshake

    private func startHandshake(context: ChannelHandlerContext) {
        guard phase == .handshaking, handshakeDeadline == nil else { return }
        let request = handshake.request
        var text = "\(request.method) \(request.target) HTTP/1.1\r\n"
        for field in request.headers { text += "\(field.name): \(field.value)\r\n" }
        text += "\r\n"
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: text)), promise: nil)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        handshakeDeadline = context.eventLoop.scheduleTask(in: load.handshakeTimeout) {
            let (handler, context) = bound.value
            handler.failHandshake("no handshake answer within \(handler.load.handshakeTimeout.nanoseconds / 1_000_000_000) s", context: context)
        }
    }

    private func readHandshake(_ incoming: ByteBuffer, context: ChannelHandlerContext) {
        var incoming = incoming
        if head == nil { head = incoming } else { head!.writeBuffer(&incoming) }
        let view = head!.readableBytesView
        guard let end = view.firstRange(of: [13, 10, 13, 10]) else {
            if view.count > 16 * 1024 { failHandshake("response head larger than 16 KiB", context: context) }
            return
        }
        let text = String(decoding: view[view.startIndex..<end.lowerBound], as: UTF8.self)
        var rest = head!.getSlice(at: end.upperBound, length: view.endIndex - end.upperBound)!
        head = nil
        let lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusLine = lines.first.map { $0.split(separator: " ", maxSplits: 2) } ?? []
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else {
            return failHandshake("malformed status line: \(lines.first ?? "")", context: context)
        }
        var headers = HandshakeHeaders()
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { return failHandshake("malformed header line: \(line)", context: context) }
            headers.add(name: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingHTTPWhitespace())
        }
        let accepted: WebSocketClientHandshake.Accepted
        do {
            accepted = try handshake.validate(status: status, headers: headers)
        } catch {
            return failHandshake("\(error)", context: context)
        }
        handshakeDeadline?.cancel()
        handshakeDeadline = nil
        if !accepted.extensions.isEmpty {
            engine = WebSocketEngine(
                role: .client, limits: load.limits, extensions: accepted.extensions,
                allocator: context.channel.allocator)
            do {
                let encoded = try load.encodedFrames.frames(
                    answer: headers, handshake: handshake, accepted: accepted.extensions.map(\.name),
                    payloads: load.payloads, limits: load.limits)
                if let encoded { frames = encoded } else { sendsPreparedFrames = false }
            } catch {
                return failHandshake("could not pre-compress the messages: \(error)", context: context)
            }
        }
        phase = .running
        ready.succeed(accepted.extensions.map(\.name))
        for _ in 0..<max(1, load.inFlight) { send(at: monotonicNanoseconds(), context: context) }
        if rest.readableBytes > 0 { readFrames(&rest, context: context) }
        flushIfNeeded(context: context)
    }

    private func failHandshake(_ reason: String, context: ChannelHandlerContext) {
        guard phase == .handshaking else { return }
        phase = .done
        handshakeDeadline?.cancel()
        handshakeDeadline = nil
        ready.fail(BenchError("connection \(index): handshake failed: \(reason)"))
        context.close(promise: nil)
    }

    // MARK: Load

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        switch phase {
        case .handshaking:
            readHandshake(incoming, context: context)
        case .running, .draining, .closing:
            // The parser (or the engine) takes every byte it reads; an incomplete frame waits inside it.
            readFrames(&incoming, context: context)
        case .done:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushIfNeeded(context: context)
        context.fireChannelReadComplete()
    }

    private func readFrames(_ buffer: inout ByteBuffer, context: ChannelHandlerContext) {
        if engine != nil { return readWithEngine(&buffer, context: context) }
        do {
            while phase != .done {
                switch try parser.next(from: &buffer) {
                case .needMoreData:
                    return
                case .partial:
                    continue  // checked once the frame is whole
                case .frame(let frame):
                    switch frame.opcode {
                    case .text, .binary, .continuation:
                        checkFragment(frame, context: context)
                    case .ping:
                        // Heartbeats are expected off in a benchmark, but answer them as a client must.
                        var pong = context.channel.allocator.buffer(capacity: frame.payload.readableBytes + 6)
                        FrameWriter.write(WireFrame(opcode: .pong, payload: frame.payload), maskingKey: .random(), into: &pong)
                        context.write(wrapOutboundOut(pong), promise: nil)
                        needsFlush = true
                    case .pong:
                        break
                    case .close:
                        peerClosed(frame.payload, context: context)
                    default:
                        fail("unexpected opcode \(frame.opcode.rawValue) from the server", context: context)
                    }
                }
            }
        } catch {
            fail("the server broke the protocol: \(error)", context: context)
        }
    }

    private func readWithEngine(_ buffer: inout ByteBuffer, context: ChannelHandlerContext) {
        while phase != .done, let event = engine!.receive(from: &buffer) {
            switch event {
            case .message(let message):
                let fragment = WireFrame(opcode: message.kind == .text ? .text : .binary, payload: message.data)
                checkFragment(fragment, context: context)
            case .ping, .pong:
                break  // the engine queued the pong
            case .closed(let close):
                var payload = ByteBuffer()
                if let code = close.code?.rawValue { payload.writeInteger(code) }
                peerClosed(payload, context: context)
            case .failed(let error):
                fail("the server broke the protocol: \(error)", context: context)
            }
        }
        if let bytes = engine?.takeOutbound() {
            context.write(wrapOutboundOut(bytes), promise: nil)
            needsFlush = true
        }
    }

    /// Compares one data frame of an echo with the bytes sent at the same place.
    @inline(__always)
    private func checkFragment(_ frame: WireFrame, context: ChannelHandlerContext) {
        guard received < sent else {
            recorder.recordMismatch("connection \(index): a message came back that was not sent (after \(received) echoes)")
            return fail("the server sent more messages than it was sent", context: context)
        }
        let expectedOpcode: WireOpcode = echoOffset > 0 ? .continuation : kind == .text ? .text : .binary
        let length = frame.payload.readableBytes
        if echoFault == nil {
            let expected = expectedPayloads[BenchPayloads.variant(sequence: received, connection: index)]
            if frame.opcode != expectedOpcode {
                echoFault = "opcode \(frame.opcode.rawValue) where \(expectedOpcode.rawValue) was due"
            } else if echoOffset + length > size {
                echoFault = "longer than the \(size) bytes sent"
            } else if length > 0 && !Self.equal(frame.payload, expected, at: echoOffset) {
                echoFault = Self.describeDifference(frame.payload, expected, at: echoOffset)
            }
        }
        echoOffset += length
        guard frame.fin else { return }
        if echoFault == nil && echoOffset != size {
            echoFault = "\(echoOffset) bytes where \(size) were sent"
        }
        let now = monotonicNanoseconds()
        let roundTrip = now &- sendTimes[received % sendTimes.count]
        if let fault = echoFault {
            recorder.recordMismatch("connection \(index), message \(received): \(fault)")
            echoFault = nil
        } else {
            recorder.recordEcho(roundTripNanoseconds: roundTrip, payloadBytes: size)
        }
        received += 1
        echoOffset = 0
        switch phase {
        case .running: send(at: now, context: context)
        case .draining where received == sent: sendClose(context: context)
        default: break
        }
    }

    private static func equal(_ got: ByteBuffer, _ expected: ByteBuffer, at offset: Int) -> Bool {
        got.withUnsafeReadableBytes { g in
            expected.withUnsafeReadableBytes { e in memcmp(g.baseAddress!, e.baseAddress! + offset, g.count) == 0 }
        }
    }

    private static func describeDifference(_ got: ByteBuffer, _ expected: ByteBuffer, at offset: Int) -> String {
        let g = got.readableBytesView
        let e = expected.readableBytesView.dropFirst(offset)
        for (i, (a, b)) in zip(g, e).enumerated() where a != b {
            return "byte \(offset + i) is 0x\(String(a, radix: 16)) where 0x\(String(b, radix: 16)) was sent"
        }
        return "differs"
    }

    @inline(__always)
    private func send(at now: UInt64, context: ChannelHandlerContext) {
        let variant = BenchPayloads.variant(sequence: sent, connection: index)
        sendTimes[sent % sendTimes.count] = now
        sent += 1
        needsFlush = true
        guard !sendsPreparedFrames else {
            context.write(wrapOutboundOut(frames[variant]), promise: nil)
            return
        }
        do {
            try engine!.send(WebSocketMessage(kind: kind, data: expectedPayloads[variant]))
        } catch {
            return fail("could not send: \(error)", context: context)
        }
        if let bytes = engine!.takeOutbound() { context.write(wrapOutboundOut(bytes), promise: nil) }
    }

    // MARK: Ending

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is BenchStopEvent else { return context.fireUserInboundEventTriggered(event) }
        switch phase {
        case .handshaking:
            failHandshake("the run ended first", context: context)
        case .running:
            phase = .draining
            if received == sent { sendClose(context: context) }
        case .draining, .closing, .done:
            break
        }
    }

    private func sendClose(context: ChannelHandlerContext) {
        phase = .closing
        if engine != nil {
            engine!.close(code: .normalClosure)
            if let bytes = engine!.takeOutbound() { context.write(wrapOutboundOut(bytes), promise: nil) }
        } else {
            context.write(wrapOutboundOut(load.payloads.closeFrame), promise: nil)
        }
        needsFlush = true
        flushIfNeeded(context: context)
    }

    private func peerClosed(_ payload: ByteBuffer, context: ChannelHandlerContext) {
        if phase != .closing {
            let code = payload.getInteger(at: payload.readerIndex, as: UInt16.self).map(String.init) ?? "none"
            recorder.recordError(
                "connection \(index): the server closed the connection (code \(code)) after \(received) echoes, \(sent - received) in flight")
        }
        phase = .done
        context.close(promise: nil)
    }

    private func fail(_ reason: String, context: ChannelHandlerContext) {
        guard phase != .done else { return }
        recorder.recordError("connection \(index): \(reason)")
        phase = .done
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch phase {
        case .handshaking:
            failHandshake("the server closed the connection during the handshake", context: context)
        case .running, .draining:
            recorder.recordError("connection \(index): TCP closed after \(received) echoes, \(sent - received) still in flight")
        case .closing, .done:
            break
        }
        phase = .done
        handshakeDeadline?.cancel()
        context.fireChannelInactive()
    }

    /// A connect that fails never makes the channel active: `ready` is failed here, not left pending.
    func handlerRemoved(context: ChannelHandlerContext) {
        failHandshake("the connection closed before the handshake", context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch phase {
        case .handshaking: failHandshake("\(error)", context: context)
        case .running, .draining: fail("\(error)", context: context)
        case .closing, .done: context.close(promise: nil)
        }
    }

    private func flushIfNeeded(context: ChannelHandlerContext) {
        guard needsFlush else { return }
        needsFlush = false
        context.flush()
    }
}

/// A failure of the benchmark itself, said plainly.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
