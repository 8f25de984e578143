import NIOCore

/// The protocol of one WebSocket connection, with no I/O (RFC 6455 §5-§7).
///
/// Feed it received bytes with ``receive(from:)`` and act on the events it
/// returns; give it what the application sends and write out what
/// ``takeOutbound()`` returns. It never blocks, never reads a clock and never
/// touches a socket, so the same engine drives a TCP connection, a TLS one and
/// a session carried inside another connection.
public struct WebSocketEngine {
    /// Where the closing handshake stands (§7).
    public enum CloseState: Sendable, Hashable {
        /// Messages flow both ways.
        case open
        /// We sent a close frame and wait for the peer's; its messages still arrive.
        case closeSent
        /// The peer's close frame arrived first. Nothing more is read; we may still
        /// send, and owe the answering close (§5.5.1: "as soon as practical").
        case closeReceived
        /// Both close frames have been exchanged, or the connection failed.
        case closed
    }

    /// How the engine meets its transport.
    public enum Framing: Sendable, Hashable {
        /// RFC 6455 bytes on a socket: ``receive(from:)`` and ``takeOutbound()``, masked by role (§5.1).
        case bytes
        /// Whole frames, already delimited and never masked, as a carried
        /// session exchanges them: ``receive(frame:)`` and ``takeOutboundFrames()``.
        case frames
    }

    /// Clients mask what they send; servers do not (§5.1).
    public let role: WebSocketRole
    /// Bytes on a socket, or frames on a logical channel.
    public let framing: Framing
    /// Where the closing handshake stands.
    public private(set) var closeState: CloseState = .open
    /// The peer's protocol violation, once one was found; nothing is read after it.
    public private(set) var failure: WebSocketProtocolError?
    /// The code of the peer's close frame, echoed in our answer (§5.5.1).
    private var peerCloseCode: WebSocketCloseCode?
    /// Outgoing data messages are split into frames of at most this many bytes; `nil` sends each as one frame.
    public var maxOutgoingFrameSize: Int?

    private var parser: FrameParser
    private var assembler: MessageAssembler
    private var pipeline: ExtensionPipeline
    private var outbound: ByteBuffer?
    /// Buffers that go out before ``outbound``: large unmasked payloads as they are, each after
    /// the bytes before it (see ``writeFrame(_:)``).
    private var outboundChunks: [ByteBuffer] = []
    private var outboundFrames: [WireFrame] = []
    private var pending: [WebSocketEvent] = []
    private var pendingHead = 0
    private let allocator: ByteBufferAllocator
    private let makeMaskingKey: @Sendable () -> WireMaskingKey

    /// - Parameters:
    ///   - role: clients mask what they send and require unmasked frames; servers the reverse (§5.1).
    ///   - limits: frame and message size limits for what the peer sends.
    ///   - extensions: the negotiated extensions, in the order of the server's response.
    ///   - framing: bytes on a socket (the default), or frames of a carried session.
    ///   - maskingKey: makes each outgoing frame's masking key (a client's); random by default, fixed in tests.
    ///   - allocator: allocates the buffers of outgoing frames.
    public init(
        role: WebSocketRole, limits: WebSocketLimits = .default,
        extensions: [any WebSocketExtension] = [], framing: Framing = .bytes,
        allocator: ByteBufferAllocator = ByteBufferAllocator(),
        maskingKey: @escaping @Sendable () -> WireMaskingKey = WireMaskingKey.random
    ) {
        self.role = role
        self.framing = framing
        self.pipeline = ExtensionPipeline(extensions)
        // An extension may make a frame larger than the message it carries (DEFLATE of random
        // data grows by up to ~0.1%): give encoded frames room, and let the message limit, applied
        // after decoding, be the one that bounds the message.
        let frameLimit = pipeline.isEmpty ? limits.maxFrameSize : limits.maxFrameSize + limits.maxFrameSize / 64 + 1024
        self.parser = FrameParser(role: role, maxFrameSize: frameLimit, allowedReservedBits: pipeline.reservedBits, allocator: allocator)
        self.assembler = MessageAssembler(limits: limits)
        self.allocator = allocator
        self.makeMaskingKey = maskingKey
    }

    /// The names of the extensions in use, in pipeline order.
    public var extensionNames: [String] { pipeline.extensions.map(\.name) }

    // MARK: Receiving

    /// Returns the next event in `buffer`, or `nil` when it needs more bytes.
    ///
    /// Call it until it returns `nil`. The engine takes the bytes it reads (an
    /// incomplete frame waits inside it), so pass each read as it arrives; bytes
    /// left in `buffer` after a close or a failure are never read.
    public mutating func receive(from buffer: inout ByteBuffer) -> WebSocketEvent? {
        if let event = nextPending() { return event }
        guard failure == nil else { return nil }
        do {
            while closeState == .open || closeState == .closeSent || pendingHead < pending.count {
                if let event = nextPending() { return event }
                switch try parser.next(from: &buffer) {
                case .needMoreData:
                    return nil
                case .partial(let header, let newBytes):
                    if pipeline.isEmpty && !header.opcode.isControl {
                        try assembler.prevalidate(header, newBytes: newBytes)
                    }
                case .frame(let frame):
                    if let event = try deliver(frame) { return event }
                }
            }
            return nextPending()
        } catch {
            return fail(error)
        }
    }

    /// Takes one whole frame of a logical channel (``Framing/frames``) and
    /// returns what it completed; an empty array when it only added to a message.
    ///
    /// The frame must pass the rules a socket parser applies (§5.2, §5.5): a
    /// defined opcode, only reserved bits an extension claims, and control
    /// frames unfragmented and at most 125 bytes (a carrier that lets senders
    /// split control frames reassembles them first).
    public mutating func receive(frame: WireFrame) -> [WebSocketEvent] {
        precondition(framing == .frames, "receive(frame:) is for logical channels; a socket feeds bytes to receive(from:)")
        guard failure == nil, closeState == .open || closeState == .closeSent else { return [] }
        var events: [WebSocketEvent] = []
        do throws(WebSocketProtocolError) {
            let length = frame.payload.readableBytes
            try FrameParser.checkRules(
                fin: frame.fin, reservedBits: frame.reservedBits, opcode: frame.opcode, length: length,
                allowedReservedBits: parser.allowedReservedBits)
            guard length <= parser.maxFrameSize else {
                throw WebSocketProtocolError(.messageTooBig, "frame of \(length) bytes exceeds the limit of \(parser.maxFrameSize)")
            }
            if let event = try deliver(frame) { events.append(event) }
            while let event = nextPending() { events.append(event) }
        } catch {
            events.append(fail(error))
        }
        return events
    }

    /// A whole frame, from the parser or a session carrier: through the extensions, then
    /// processed. Without extensions its event is returned; otherwise events go to `pending`.
    private mutating func deliver(_ frame: WireFrame) throws(WebSocketProtocolError) -> WebSocketEvent? {
        if pipeline.isEmpty { return try process(frame) }
        let (toApplication, toPeer) = try pipeline.decode(frame)
        toPeer.forEach { writeFrame($0) }
        for frame in toApplication {
            if let event = try process(frame) { pending.append(event) }
        }
        return nil
    }

    private mutating func nextPending() -> WebSocketEvent? {
        guard pendingHead < pending.count else { return nil }
        let event = pending[pendingHead]
        pendingHead += 1
        if pendingHead == pending.count {
            pending.removeAll(keepingCapacity: true)
            pendingHead = 0
        }
        return event
    }

    /// Handles one frame that has left the extension pipeline.
    private mutating func process(_ frame: WireFrame) throws(WebSocketProtocolError) -> WebSocketEvent? {
        switch frame.opcode {
        case .ping:
            // §5.5.2: answer unless the peer's close has arrived (having sent ours does not exempt us).
            guard closeState == .open || closeState == .closeSent else { return nil }
            sendFrame(WireFrame(opcode: .pong, payload: frame.payload))  // §5.5.3: same application data
            return .ping(frame.payload)
        case .pong:
            return .pong(frame.payload)
        case .close:
            let close = try WebSocketCloseFrame(parsing: frame.payload)
            if closeState == .open {
                peerCloseCode = close.code
                closeState = .closeReceived
            } else {
                closeState = .closed
            }
            return .closed(close)
        default:
            // §5.5.1: after sending a close frame we send no more data, but the peer may still
            // have been sending; its messages are delivered until its close frame arrives.
            return try assembler.append(frame).map(WebSocketEvent.message)
        }
    }

    private mutating func fail(_ error: WebSocketProtocolError) -> WebSocketEvent {
        failure = error
        pending.removeAll()
        pendingHead = 0
        return .failed(error)
    }

    // MARK: Sending

    /// Queues a message. Throws ``WebSocketError/connectionClosed`` once a close frame was sent or received.
    public mutating func send(_ message: WebSocketMessage) throws(WebSocketError) {
        guard closeState == .open || closeState == .closeReceived else { throw .connectionClosed }
        let opcode: WireOpcode = message.kind == .text ? .text : .binary
        guard let limit = maxOutgoingFrameSize, message.data.readableBytes > limit else {
            sendFrame(WireFrame(opcode: opcode, payload: message.data))
            return
        }
        var data = message.data
        var first = true
        while data.readableBytes > 0 || first {
            let chunk = data.readSlice(length: min(limit, data.readableBytes))!
            sendFrame(WireFrame(fin: data.readableBytes == 0, opcode: first ? opcode : .continuation, payload: chunk))
            first = false
        }
    }

    /// Queues a ping (§5.5.2). The payload is cut to the 125 bytes a control frame may carry.
    public mutating func ping(_ payload: ByteBuffer = ByteBuffer()) throws(WebSocketError) {
        guard closeState == .open else { throw .connectionClosed }
        sendFrame(WireFrame(opcode: .ping, payload: payload.getSlice(at: payload.readerIndex, length: min(125, payload.readableBytes))!))
    }

    /// Queues an unsolicited pong, which a peer may use as a heartbeat (§5.5.3).
    public mutating func pong(_ payload: ByteBuffer = ByteBuffer()) throws(WebSocketError) {
        guard closeState == .open else { throw .connectionClosed }
        sendFrame(WireFrame(opcode: .pong, payload: payload.getSlice(at: payload.readerIndex, length: min(125, payload.readableBytes))!))
    }

    /// Starts the closing handshake (§7.1.2), or answers the peer's close. Returns
    /// `false` when there is nothing to send (our close frame is already out).
    ///
    /// In ``CloseState/closeReceived`` this answers the peer's close, echoing its
    /// status code (§5.5.1) whatever `code` says, and the engine is closed.
    /// After a ``WebSocketEvent/failed(_:)``, it sends the failure's close frame and the
    /// engine is ``CloseState/closed``: no answer is awaited.
    @discardableResult
    public mutating func close(code: WebSocketCloseCode = .normalClosure, reason: String = "") -> Bool {
        switch closeState {
        case .open:
            sendFrame(WireFrame(opcode: .close, payload: WebSocketCloseFrame(code: code, reason: reason).payload(allocator: allocator)))
            closeState = failure == nil ? .closeSent : .closed
            return true
        case .closeReceived:
            // Echo the peer's code (§5.5.1); a close without one is answered with 1000, which
            // tells the peer the close was normal rather than leaving it to guess (1005).
            sendFrame(
                WireFrame(opcode: .close, payload: WebSocketCloseFrame(code: peerCloseCode ?? .normalClosure).payload(allocator: allocator)))
            closeState = .closed
            return true
        case .closeSent, .closed:
            return false
        }
    }

    /// The connection has been quiet: extensions free what they can rebuild (a
    /// compressor's history). Each keeps what a message in progress still needs.
    public mutating func releaseIdleMemory() {
        pipeline.releaseIdleMemory()
    }

    /// The bytes queued for the peer since the last call, as one buffer: write and flush them together.
    ///
    /// ``takeOutboundBuffers(_:)`` hands them over without joining them into one buffer.
    public mutating func takeOutbound() -> ByteBuffer? {
        guard !outboundChunks.isEmpty else {
            defer { outbound = nil }
            return outbound
        }
        var joined = allocator.buffer(capacity: outboundByteCount)
        takeOutboundBuffers { buffer in
            var buffer = buffer
            joined.writeBuffer(&buffer)
        }
        return joined
    }

    /// Calls `body` with each buffer queued for the peer since the last call, in order: write
    /// them all, then flush. A large unmasked payload (a server's, from
    /// ``zeroCopyPayloadBytes`` up) is its own buffer, the message's, not copied.
    public mutating func takeOutboundBuffers(_ body: (ByteBuffer) -> Void) {
        for chunk in outboundChunks { body(chunk) }
        outboundChunks.removeAll(keepingCapacity: true)
        if let outbound { body(outbound) }
        outbound = nil
    }

    /// The payload size from which an unmasked frame's payload is sent as it is, behind its
    /// header, rather than copied after it: below it the copy costs less than another buffer
    /// in the write.
    public static let zeroCopyPayloadBytes = 4096

    /// The frames queued for the peer since the last call (``Framing/frames``), in order.
    public mutating func takeOutboundFrames() -> [WireFrame] {
        defer { outboundFrames.removeAll(keepingCapacity: true) }
        return outboundFrames
    }

    /// How many bytes wait in ``takeOutbound()``.
    public var outboundByteCount: Int { outboundChunks.reduce(outbound?.readableBytes ?? 0) { $0 + $1.readableBytes } }

    /// Whether bytes or frames are waiting in ``takeOutbound()`` or ``takeOutboundFrames()``.
    public var hasOutbound: Bool { outbound != nil || !outboundChunks.isEmpty || !outboundFrames.isEmpty }

    private mutating func sendFrame(_ frame: WireFrame) {
        if pipeline.isEmpty {
            writeFrame(frame)
            return
        }
        do {
            let (toPeer, toApplication) = try pipeline.encode(frame)
            toPeer.forEach { writeFrame($0) }
            for frame in toApplication {
                if let event = try process(frame) { pending.append(event) }
            }
        } catch {
            pending.append(fail(error))
        }
    }

    private mutating func writeFrame(_ frame: WireFrame) {
        if framing == .frames {
            outboundFrames.append(frame)
            return
        }
        let key = role == .client ? makeMaskingKey() : nil
        if key == nil, frame.payload.readableBytes >= Self.zeroCopyPayloadBytes {
            // The header ends the bytes before it; the payload follows as its own buffer.
            if outbound == nil {
                outbound = allocator.buffer(capacity: FrameWriter.headerSize(payloadLength: frame.payload.readableBytes, masked: false))
            }
            FrameWriter.writeHeader(of: frame, into: &outbound!)
            outboundChunks.append(outbound!)
            outboundChunks.append(frame.payload)
            outbound = nil
            return
        }
        if outbound == nil {
            outbound = allocator.buffer(
                capacity: FrameWriter.headerSize(payloadLength: frame.payload.readableBytes, masked: key != nil) + frame.payload.readableBytes)
        }
        FrameWriter.write(frame, maskingKey: key, into: &outbound!)
    }
}
