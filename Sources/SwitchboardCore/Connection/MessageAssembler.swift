import NIOCore

/// Reassembles data frames into messages (RFC 6455 §5.4), checking fragment
/// order, UTF-8 of text (§8.1) and the message size limit.
struct MessageAssembler: Sendable {
    private enum State: Sendable {
        case idle
        case assembling(kind: WebSocketMessage.Kind, data: ByteBuffer)
    }

    private var state: State = .idle
    private var validator = UTF8Validator()
    /// Bytes of the frame in progress already checked by ``prevalidate(_:newBytes:)``.
    private var prevalidated = 0
    var limits: WebSocketLimits

    init(limits: WebSocketLimits) { self.limits = limits }

    private var currentKind: WebSocketMessage.Kind? {
        if case .assembling(let kind, _) = state { return kind }
        return nil
    }

    /// Checks the order of a data frame and tells whether it belongs to a text message.
    private func kind(of opcode: WireOpcode) throws(WebSocketProtocolError) -> WebSocketMessage.Kind {
        switch (opcode, currentKind) {
        case (.continuation, let kind?): return kind
        case (.continuation, nil): throw .protocolViolation("continuation frame with no message to continue")  // §5.4
        case (_, _?): throw .protocolViolation("new data frame before the previous message ended")  // §5.4
        case (.text, nil): return .text
        default: return .binary
        }
    }

    /// Checks the UTF-8 of a text frame's payload while the rest of it is still arriving.
    mutating func prevalidate(_ header: FrameParser.Header, newBytes: ByteBuffer) throws(WebSocketProtocolError) {
        guard try kind(of: header.opcode) == .text else { return }
        if header.opcode == .text && prevalidated == 0 { validator = UTF8Validator() }
        try check(newBytes)
        prevalidated += newBytes.readableBytes
    }

    private mutating func check(_ bytes: ByteBuffer) throws(WebSocketProtocolError) {
        let ok = bytes.withUnsafeReadableBytes { validator.validate($0) }
        guard ok else { throw WebSocketProtocolError(.invalidFramePayloadData, "text message is not valid UTF-8") }  // §8.1
    }

    /// Takes a data frame; returns the message it completes, if any.
    mutating func append(_ frame: WireFrame) throws(WebSocketProtocolError) -> WebSocketMessage? {
        let kind = try kind(of: frame.opcode)
        let skip = prevalidated
        prevalidated = 0
        if kind == .text {
            if frame.opcode == .text && skip == 0 { validator = UTF8Validator() }
            try check(frame.payload.getSlice(at: frame.payload.readerIndex + skip, length: frame.payload.readableBytes - skip)!)
            if frame.fin && !validator.isComplete {
                throw WebSocketProtocolError(.invalidFramePayloadData, "text message ends inside a UTF-8 sequence")
            }
        }

        switch state {
        case .idle:
            guard frame.payload.readableBytes <= limits.maxMessageSize else { throw tooBig() }
            if frame.fin { return WebSocketMessage(kind: kind, data: frame.payload) }
            state = .assembling(kind: kind, data: frame.payload)
            return nil
        case .assembling(_, var data):
            state = .idle  // drop our reference so that `data` is uniquely owned and grows in place
            guard data.readableBytes + frame.payload.readableBytes <= limits.maxMessageSize else { throw tooBig() }
            var payload = frame.payload
            data.writeBuffer(&payload)
            if frame.fin { return WebSocketMessage(kind: kind, data: data) }
            state = .assembling(kind: kind, data: data)
            return nil
        }
    }

    private func tooBig() -> WebSocketProtocolError {
        WebSocketProtocolError(.messageTooBig, "message exceeds the limit of \(limits.maxMessageSize) bytes")
    }
}
