import NIOCore
import Testing

@testable import Multiplex

@Suite("Control block numbers: 1/3/9-byte encoding")
struct NumberTests {
    private func read(_ text: String) throws(MuxWireError) -> Int {
        var input = buffer(hex: text)
        let value = try MuxNumber.read(from: &input, field: "n")
        precondition(input.readableBytes == 0)
        return value
    }

    @Test("round trip at every boundary, shortest form")
    func boundaries() throws {
        for (value, length) in [(0, 1), (1, 1), (125, 1), (126, 3), (65535, 3), (65536, 9), (1 << 32, 9), (Int.max, 9)] {
            var out = ByteBuffer()
            MuxNumber.write(value, into: &out)
            #expect(out.readableBytes == length)
            #expect(MuxNumber.encodedLength(value) == length)
            #expect(try read(hex(out)) == value)
        }
    }

    // The same cases mod_pywebsocket 0.7.9's test_mux.py refuses.
    @Test(
        "malformed numbers are 2005",
        arguments: [
            "",  // nothing
            "7e", "7e00",  // 3-byte form cut short
            "7f00000000000100",  // 9-byte form cut short
            "7fffffffffffffffff",  // 2^64 - 1: top bit set
            "7f8000000000000000",  // 2^63
            "80", "ff",  // top bit of the first byte set
            "7e007d",  // 125 in 3 bytes
            "7e0000",  // 0 in 3 bytes
            "7f000000000000ffff",  // 65535 in 9 bytes
            "7f0000000000000001",  // 1 in 9 bytes
        ])
    func malformed(_ text: String) {
        #expect(dropCode { () throws(MuxWireError) in _ = try read(text) } == .invalidMuxControlBlock)
    }

    @Test("a size larger than what is left is 2005")
    func sizeBeyondEnd() {
        #expect(
            dropCode { () throws(MuxWireError) in
                var input = buffer(hex: "0561626364")  // says 5, holds 4
                _ = try MuxNumber.readSized(from: &input, field: "handshake")
            } == .invalidMuxControlBlock)
        #expect(
            dropCode { () throws(MuxWireError) in
                var input = buffer(hex: "7f7fffffffffffffff00")  // says 2^63 - 1
                _ = try MuxNumber.readSized(from: &input, field: "handshake")
            } == .invalidMuxControlBlock)
    }
}
