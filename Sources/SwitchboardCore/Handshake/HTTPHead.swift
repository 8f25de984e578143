import NIOCore

/// Collects the head of an HTTP/1.1 message (start line and header fields,
/// RFC 9112 §2.1) from the bytes of a connection, with a size limit, and
/// hands back whatever followed it untouched: after a 101 those bytes are
/// WebSocket frames.
///
/// The handshake needs only the head, so the client, the server and the proxy
/// tunnel read it with this small reader rather than a full HTTP codec that
/// would have to be unplugged mid-stream; a multiplexed channel's handshake,
/// which arrives whole inside a control block, is parsed with ``parse(_:)``.
public struct HTTPHeadReader: Sendable {
    /// A parsed head.
    public struct Head: Sendable {
        /// The three parts of the start line: method, target, version for a
        /// request; version, status, reason for a response.
        public var startLine: [String]
        public var headers: HandshakeHeaders
    }

    public enum ReadError: Error, Equatable, Sendable {
        case tooLarge
        case malformed(String)
    }

    /// The largest head accepted, in bytes.
    public let limit: Int
    private var buffer: ByteBuffer?
    /// Bytes of `buffer` already searched for the empty line, so a head that comes in pieces is scanned once.
    private var scanned = 0

    public init(limit: Int) { self.limit = limit }

    /// Adds bytes; returns the head and the bytes after it once the head is complete.
    public mutating func read(_ incoming: ByteBuffer) throws(ReadError) -> (head: Head, rest: ByteBuffer)? {
        var incoming = incoming
        if buffer == nil { buffer = incoming } else { buffer!.writeBuffer(&incoming) }
        let from = scanned
        guard let end = buffer!.withUnsafeReadableBytes({ Self.emptyLine(in: $0, from: from) }) else {
            guard buffer!.readableBytes <= limit else { throw .tooLarge }
            scanned = Swift.max(0, buffer!.readableBytes - 3)  // the CR LF CR LF may straddle this read and the next
            return nil
        }
        guard end <= limit else { throw .tooLarge }
        let start = buffer!.readerIndex
        let text = buffer!.getString(at: start, length: end)!
        let rest = buffer!.getSlice(at: start + end + 4, length: buffer!.readableBytes - end - 4)!
        buffer = nil
        scanned = 0
        return (try Self.parse(text), rest)
    }

    /// The offset of the first CR LF CR LF at or after `start`. A byte loop: the generic
    /// `firstRange(of:)` on a ByteBufferView ran unspecialized, with type-metadata lookups,
    /// about 8% of a server's CPU under a handshake load (`perf`, Benchmarks/NIOEcho/README.md).
    static func emptyLine(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var i = start
        while i + 3 < bytes.count {
            if bytes[i + 3] == 10, bytes[i + 2] == 13, bytes[i + 1] == 10, bytes[i] == 13 { return i }
            i += 1
        }
        return nil
    }

    /// The lines of `text`, split at each CR LF (not at a lone CR or LF).
    static func lines(of text: String) -> [Substring] {
        var lines: [Substring] = []
        let utf8 = text.utf8
        var lineStart = utf8.startIndex
        var i = lineStart
        while i != utf8.endIndex {
            let next = utf8.index(after: i)
            if utf8[i] == 13, next != utf8.endIndex, utf8[next] == 10 {
                lines.append(text[lineStart..<i])
                i = utf8.index(after: next)
                lineStart = i
            } else {
                i = next
            }
        }
        lines.append(text[lineStart...])
        return lines
    }

    /// Parses a complete head, without its final empty line.
    public static func parse(_ text: String) throws(ReadError) -> Head {
        var lines = Self.lines(of: text)[...]
        guard let first = lines.popFirst() else { throw .malformed("empty head") }
        let parts = first.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw .malformed("bad start line: \(first)") }
        var headers = HandshakeHeaders()
        for line in lines {
            // RFC 9112 §5: no whitespace before the colon; obsolete line folding is refused (§5.2).
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex,
                  let firstChar = line.first, firstChar != " ", firstChar != "\t",
                  !line[..<colon].contains(where: { $0 == " " || $0 == "\t" })
            else { throw .malformed("bad header line: \(line)") }
            headers.add(name: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingHTTPWhitespace())
        }
        return Head(startLine: parts, headers: headers)
    }
}

/// Serializes an HTTP/1.1 head.
public enum HTTPHeadWriter {
    /// A request head: `METHOD target HTTP/1.1`, then the fields.
    public static func request(method: String, target: String, headers: HandshakeHeaders) -> ByteBuffer {
        write(startLine: "\(method) \(target) HTTP/1.1", headers: headers)
    }

    /// A response head: `HTTP/1.1 status reason`, then the fields.
    public static func response(status: Int, headers: HandshakeHeaders) -> ByteBuffer {
        write(startLine: "HTTP/1.1 \(status) \(reasonPhrase(status))", headers: headers)
    }

    /// Any head: the start line, then the fields. Written into one buffer of the right size.
    public static func write(startLine: String, headers: HandshakeHeaders) -> ByteBuffer {
        var size = startLine.utf8.count + 4
        for field in headers { size += field.name.utf8.count + field.value.utf8.count + 4 }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(size)
        buffer.writeString(startLine)
        buffer.writeStaticString("\r\n")
        for field in headers {
            buffer.writeString(field.name)
            buffer.writeStaticString(": ")
            buffer.writeString(field.value)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("\r\n")
        return buffer
    }

    /// The reason phrase written after `status`.
    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 101: return "Switching Protocols"
        case 200: return "OK"
        case 400: return "Bad Request"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 426: return "Upgrade Required"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 503: return "Service Unavailable"
        default: return "Status \(status)"
        }
    }
}
