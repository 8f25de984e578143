import NIOCore
import SwitchboardCore
import Testing

/// The reader of a handshake's HTTP head: where the head ends, what follows it, and its size limit.
@Suite("HTTPHeadReader: the head of an HTTP/1.1 message, byte by byte")
struct HTTPHeadReaderTests {
    static let head = "GET /chat?x=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nX-Odd: a\rb\nc\r\n\r\n"
    static let frames: [UInt8] = [0x81, 0x85, 1, 2, 3, 4, 9, 9, 9, 9, 9]

    @Test("RFC 9112 §2.1: the head ends at the first empty line, wherever the reads split it; the bytes after it are kept whole")
    func everySplit() throws {
        let whole = Array(Self.head.utf8) + Self.frames
        for split in 1..<whole.count {
            var reader = HTTPHeadReader(limit: 8192)
            let first = try reader.read(ByteBuffer(bytes: whole[..<split]))
            let result = try first ?? reader.read(ByteBuffer(bytes: whole[split...]))
            let (head, rest) = try #require(result, "split at \(split)")
            if first != nil {
                #expect(split >= Self.head.utf8.count, "the head was complete only with all its bytes")
            }
            #expect(head.startLine == ["GET", "/chat?x=1", "HTTP/1.1"])
            #expect(head.headers.single("Upgrade") == "websocket")
            #expect(head.headers.single("X-Odd") == "a\rb\nc", "a lone CR or LF does not end a line")
            // With the whole input in the first read, the rest is in it; otherwise the rest is what followed in either read.
            let expectedRest = first != nil ? Array(whole[Self.head.utf8.count..<split]) : Self.frames
            #expect(Array(rest.readableBytesView) == expectedRest, "split at \(split)")
        }
    }

    @Test("RFC 6585 §5: a head longer than the limit is refused as too large, even before it is complete")
    func limit() throws {
        var reader = HTTPHeadReader(limit: 32)
        #expect(throws: HTTPHeadReader.ReadError.tooLarge) { try reader.read(ByteBuffer(string: Self.head)) }
        var slow = HTTPHeadReader(limit: 32)
        #expect(try slow.read(ByteBuffer(string: "GET / HTTP/1.1\r\n")) == nil)
        #expect(throws: HTTPHeadReader.ReadError.tooLarge) { try slow.read(ByteBuffer(string: String(repeating: "a", count: 40))) }
    }

    @Test(
        "RFC 9112 §3: the start line splits at its first two spaces; the first two parts must not be empty",
        arguments: [
            ("GET / HTTP/1.1", ["GET", "/", "HTTP/1.1"]),
            ("HTTP/1.1 101 Switching Protocols", ["HTTP/1.1", "101", "Switching Protocols"]),
            ("GET /", ["GET", "/"]),
            ("GET", nil), ("GET ", nil), (" GET /", nil), ("GET  / HTTP/1.1", nil), ("", nil),
        ] as [(String, [String]?)])
    func startLine(line: String, parts: [String]?) throws {
        let parsed = try? HTTPHeadReader.parse(line + "\r\nHost: a")
        #expect(parsed?.startLine == parts, "\(line.debugDescription)")
    }

    @Test("RFC 9112 §5: a field value loses the spaces and tabs around it; a name with whitespace, an empty name or a folded line is refused")
    func fieldLines() throws {
        let head = try HTTPHeadReader.parse("GET / HTTP/1.1\r\nA: \t spaced \t \r\nB:\r\nC:tight\r\nD: caf\u{E9} \u{301}x\r\nE: a: b")
        #expect(head.headers.single("A") == "spaced")
        #expect(head.headers.single("B") == "")
        #expect(head.headers.single("C") == "tight")
        #expect(head.headers.single("D") == "caf\u{E9} \u{301}x", "non-ASCII bytes are kept as they are")
        #expect(head.headers.single("E") == "a: b", "the name ends at the first colon")
        for bad in ["X : y", "X\t: y", ": y", " X: y", "\tX: y", "no colon", ""] {
            #expect(throws: HTTPHeadReader.ReadError.self, "\(bad.debugDescription)") {
                try HTTPHeadReader.parse("GET / HTTP/1.1\r\nHost: a\r\n" + bad)
            }
        }
    }

    @Test("Whitespace around a value is SP and HTAB bytes, even a space that a combining mark follows")
    func trimmingIsByteWise() {
        #expect(" \u{301}x ".trimmingHTTPWhitespace() == "\u{301}x")
        #expect("\t a \t".trimmingHTTPWhitespace() == "a")
        #expect("   ".trimmingHTTPWhitespace() == "")
    }
}
