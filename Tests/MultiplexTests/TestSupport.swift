import NIOCore

@testable import Multiplex

/// A buffer holding the bytes written in hex (spaces allowed).
func buffer(hex: String) -> ByteBuffer {
    let digits = Array(hex.filter { !$0.isWhitespace })
    precondition(digits.count % 2 == 0, "odd number of hex digits")
    var buffer = ByteBuffer()
    var i = 0
    while i < digits.count {
        buffer.writeInteger(UInt8(String(digits[i...i + 1]), radix: 16)!)
        i += 2
    }
    return buffer
}

/// The readable bytes of `buffer` in lowercase hex, no spaces.
func hex(_ buffer: ByteBuffer) -> String {
    buffer.readableBytesView.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

/// The encoding of one control block, in hex.
func hex(_ block: MuxControlBlock) -> String {
    var out = ByteBuffer()
    block.write(into: &out)
    precondition(out.readableBytes == block.encodedLength, "encodedLength disagrees with write")
    return hex(out)
}

/// Decodes a control channel payload that must hold exactly one block.
func decodeBlock(hex text: String) throws(MuxWireError) -> MuxControlBlock {
    let blocks = try MuxControlBlock.readAll(from: buffer(hex: text))
    precondition(blocks.count == 1, "expected one block, got \(blocks.count)")
    return blocks[0]
}

/// The drop code a decode fails with, or `nil` when it succeeds.
func dropCode(_ body: () throws(MuxWireError) -> Void) -> MuxDropCode? {
    do {
        try body()
        return nil
    } catch {
        return error.code
    }
}

/// The drop code of decoding `text` as a control channel payload, or `nil` when it decodes.
func dropCode(controlPayload text: String) -> MuxDropCode? {
    dropCode { () throws(MuxWireError) in _ = try MuxControlBlock.readAll(from: buffer(hex: text)) }
}

/// Every strict prefix of the bytes in `text`, in hex: each must fail to decode as a whole block.
func strictPrefixes(hex text: String) -> [String] {
    let compact = text.filter { !$0.isWhitespace }
    return stride(from: 2, to: compact.count, by: 2).map { String(compact.prefix($0)) }
}

/// `text` with its first byte OR-ed with `bits`.
func settingBits(_ bits: UInt8, inFirstByteOf text: String) -> String {
    var b = buffer(hex: text)
    let first = b.getInteger(at: 0, as: UInt8.self)!
    b.setInteger(first | bits, at: 0)
    return hex(b)
}
