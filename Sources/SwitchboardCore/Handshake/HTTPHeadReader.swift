import NIOCore

/// Collects the head of an HTTP/1.1 message (start line and header fields,
/// RFC 9112 §2.1) from the bytes of a connection, with a size limit, and
/// hands back whatever followed it untouched: after a 101 those bytes are
/// WebSocket frames.
///
/// The handshake needs only the head, so the client, the server and the proxy
/// tunnel read it with this small reader rather than a full HTTP codec that
/// would have to be unplugged mid-stream; a carried session's handshake,
/// which arrives whole inside a message, is parsed with ``parse(_:)``.
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
        let head = buffer!.withUnsafeReadableBytes { Self.parse(UnsafeRawBufferPointer(rebasing: $0[..<end])) }
        let rest = buffer!.getSlice(at: buffer!.readerIndex + end + 4, length: buffer!.readableBytes - end - 4)!
        buffer = nil
        scanned = 0
        return (try head.get(), rest)
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

    /// Parses a complete head, without its final empty line.
    public static func parse(_ text: String) throws(ReadError) -> Head {
        var text = text
        return try text.withUTF8 { parse(UnsafeRawBufferPointer($0)) }.get()
    }

    /// Parses the bytes of a complete head, without its final empty line: lines end at CR LF
    /// (a lone CR or LF stays inside its line). A byte loop over the buffer: splitting a
    /// `String` worked `Character` by `Character`, with grapheme-break checks, about 7% of a
    /// server's CPU under a handshake load (`perf`, Benchmarks/NIOEcho/README.md).
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Result<Head, ReadError> {
        var startLine: [String]?
        var headers = HandshakeHeaders()
        var lineStart = 0
        while true {
            var lineEnd = lineStart
            while lineEnd + 1 < bytes.count, !(bytes[lineEnd] == 13 && bytes[lineEnd + 1] == 10) { lineEnd += 1 }
            if lineEnd + 1 >= bytes.count { lineEnd = bytes.count }  // the last line has no CR LF
            let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<lineEnd])
            if startLine == nil {
                guard let parts = startLineParts(line) else { return .failure(.malformed("bad start line: \(string(line))")) }
                startLine = parts
            } else {
                guard let (name, value) = field(line) else { return .failure(.malformed("bad header line: \(string(line))")) }
                headers.add(name: name, value: value)
            }
            guard lineEnd < bytes.count else { break }
            lineStart = lineEnd + 2
        }
        return .success(Head(startLine: startLine!, headers: headers))
    }

    /// The start line split at its first two spaces; nil unless the first two parts are non-empty.
    private static func startLineParts(_ line: UnsafeRawBufferPointer) -> [String]? {
        guard let first = line.firstIndex(of: 32), first > 0 else { return nil }
        let rest = line[(first + 1)...]
        let second = rest.firstIndex(of: 32) ?? line.count
        guard second > first + 1 else { return nil }
        var parts = [string(line[..<first]), string(line[(first + 1)..<second])]
        if second < line.count { parts.append(string(line[(second + 1)...])) }
        return parts
    }

    /// `name: value`, the value without the whitespace around it. RFC 9112 §5: no whitespace
    /// before the colon or at the start of the line (obsolete line folding is refused, §5.2).
    private static func field(_ line: UnsafeRawBufferPointer) -> (name: String, value: String)? {
        guard let colon = line.firstIndex(of: 58), colon > 0,
            !line[..<colon].contains(where: { $0 == 32 || $0 == 9 })
        else { return nil }
        var start = colon + 1
        var end = line.count
        while start < end, line[start] == 32 || line[start] == 9 { start += 1 }
        while end > start, line[end - 1] == 32 || line[end - 1] == 9 { end -= 1 }
        return (string(line[..<colon]), string(line[start..<end]))
    }

    private static func string(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}
