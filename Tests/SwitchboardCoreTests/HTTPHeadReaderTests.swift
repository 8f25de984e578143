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
}
