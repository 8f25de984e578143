import NIOCore

/// The body of a close frame (RFC 6455 §5.5.1).
public struct WebSocketCloseFrame: Sendable, Hashable {
    /// The status code, or `nil` when the frame had none (reported as 1005, §7.1.5).
    public var code: WebSocketCloseCode?
    /// Why, for humans; at most 123 bytes of UTF-8 on the wire.
    public var reason: String

    public init(code: WebSocketCloseCode?, reason: String = "") {
        self.code = code
        self.reason = reason
    }

    /// Parses and checks a received close payload.
    ///
    /// One byte cannot hold a code (§5.5.1); a code that may not be sent is a
    /// protocol error (§7.4); a reason must be UTF-8 (§5.5.1, close with 1007).
    public init(parsing payload: ByteBuffer) throws(WebSocketProtocolError) {
        var payload = payload
        switch payload.readableBytes {
        case 0:
            self.init(code: nil)
        case 1:
            throw .protocolViolation("close frame with a one-byte payload")
        default:
            let raw = payload.readInteger(as: UInt16.self)!
            let code = WebSocketCloseCode(raw)
            guard code.isAllowedOnWire else { throw .protocolViolation("close code \(raw) may not be sent") }
            let valid = payload.withUnsafeReadableBytes { bytes -> Bool in
                var validator = UTF8Validator()
                return validator.validate(bytes) && validator.isComplete
            }
            guard valid else { throw WebSocketProtocolError(.invalidFramePayloadData, "close reason is not UTF-8") }
            self.init(code: code, reason: String(buffer: payload))
        }
    }

    /// The payload that carries this close (empty when there is no code).
    ///
    /// The reason is cut at a character boundary so the frame stays within the
    /// 125 bytes of a control frame (§5.5).
    public func payload(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        guard let code else { return allocator.buffer(capacity: 0) }
        var buffer = allocator.buffer(capacity: 2 + min(reason.utf8.count, 123))
        buffer.writeInteger(code.rawValue)
        var text = Substring(reason)
        while text.utf8.count > 123 { text.removeLast() }
        buffer.writeBytes(text.utf8)
        return buffer
    }
}
