import NIOCore
import SwitchboardCore
import SwitchboardTestSupport
import Testing

// Shared helpers of the sans-I/O tests: build wire bytes by hand (independently
// of FrameWriter), run bytes through a parser or an engine, and compare events.

func randomBytes(_ count: Int, using rng: inout SeededRandom) -> [UInt8] {
    (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
}

let testKey = WireMaskingKey(0x37, 0xFA, 0x21, 0x3D)  // the key of RFC 6455 §5.7's examples

/// The bytes of one frame, written by hand from §5.2 (not with FrameWriter).
/// `lengthForm` forces a length encoding: 7, 16 or 64 bits.
func rawFrame(
    fin: Bool = true, rsv: UInt8 = 0, opcode: UInt8, payload: [UInt8],
    mask: WireMaskingKey? = nil, lengthForm: Int? = nil
) -> [UInt8] {
    var out: [UInt8] = [(fin ? 0x80 : 0) | rsv | opcode]
    let maskBit: UInt8 = mask == nil ? 0 : 0x80
    let form = lengthForm ?? (payload.count < 126 ? 7 : payload.count <= 0xFFFF ? 16 : 64)
    switch form {
    case 7: out.append(maskBit | UInt8(payload.count))
    case 16:
        out.append(maskBit | 126)
        out += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
    default:
        out.append(maskBit | 127)
        out += (0..<8).reversed().map { UInt8(truncatingIfNeeded: UInt64(payload.count) >> (UInt64($0) * 8)) }
    }
    if let mask {
        let k = [mask.bytes.0, mask.bytes.1, mask.bytes.2, mask.bytes.3]
        out += k
        out += payload.enumerated().map { $0.element ^ k[$0.offset % 4] }
    } else {
        out += payload
    }
    return out
}

/// A frame as a client sends it (masked with `testKey`).
func clientFrame(fin: Bool = true, rsv: UInt8 = 0, _ opcode: WireOpcode, _ payload: [UInt8]) -> [UInt8] {
    rawFrame(fin: fin, rsv: rsv, opcode: opcode.rawValue, payload: payload, mask: testKey)
}

func clientFrame(fin: Bool = true, _ opcode: WireOpcode, _ text: String) -> [UInt8] {
    clientFrame(fin: fin, opcode, Array(text.utf8))
}

/// A frame as a server sends it (unmasked).
func serverFrame(fin: Bool = true, rsv: UInt8 = 0, _ opcode: WireOpcode, _ payload: [UInt8]) -> [UInt8] {
    rawFrame(fin: fin, rsv: rsv, opcode: opcode.rawValue, payload: payload)
}

/// A close payload: code and reason.
func closePayload(_ code: UInt16, _ reason: String = "") -> [UInt8] {
    [UInt8(code >> 8), UInt8(code & 0xFF)] + Array(reason.utf8)
}

extension ByteBuffer {
    var bytes: [UInt8] { Array(readableBytesView) }
}

/// What a parser produced, in a comparable form.
enum Parsed: Equatable {
    case frame(WireFrame)
    case partial(FrameParser.Header, [UInt8])
    case needMoreData
    case error(WebSocketProtocolError)
}

/// Calls `parser.next` until it needs more data or throws.
func parseAll(_ parser: inout FrameParser, _ buffer: inout ByteBuffer) -> [Parsed] {
    var out: [Parsed] = []
    while true {
        do {
            switch try parser.next(from: &buffer) {
            case .frame(let f): out.append(.frame(f))
            case .partial(let h, let new): out.append(.partial(h, new.bytes))
            case .needMoreData: return out
            }
        } catch {
            out.append(.error(error))
            return out
        }
    }
}

/// Parses a complete byte string; returns the frames, or the error that stopped parsing.
func parseFrames(
    _ bytes: [UInt8], role: WebSocketRole, maxFrameSize: Int = 1 << 24,
    allowed: WireFrame.ReservedBits = []
) -> (frames: [WireFrame], error: WebSocketProtocolError?) {
    var parser = FrameParser(role: role, maxFrameSize: maxFrameSize, allowedReservedBits: allowed)
    var buffer = ByteBuffer(bytes: bytes)
    var frames: [WireFrame] = []
    for result in parseAll(&parser, &buffer) {
        switch result {
        case .frame(let f): frames.append(f)
        case .error(let e): return (frames, e)
        default: break
        }
    }
    return (frames, nil)
}

/// The first error a parser reports for these bytes.
func parseError(
    _ bytes: [UInt8], role: WebSocketRole = .server, maxFrameSize: Int = 1 << 24,
    allowed: WireFrame.ReservedBits = []
) -> WebSocketProtocolError? {
    parseFrames(bytes, role: role, maxFrameSize: maxFrameSize, allowed: allowed).error
}

/// An engine event in a comparable form.
enum Event: Equatable, CustomStringConvertible {
    case text(String)
    case binary([UInt8])
    case ping([UInt8])
    case pong([UInt8])
    case closed(UInt16?, String)
    case failed(UInt16)

    init(_ event: WebSocketEvent) {
        switch event {
        case .message(let m): self = m.kind == .text ? .text(m.text!) : .binary(m.data.bytes)
        case .ping(let p): self = .ping(p.bytes)
        case .pong(let p): self = .pong(p.bytes)
        case .closed(let c): self = .closed(c.code?.rawValue, c.reason)
        case .failed(let e): self = .failed(e.closeCode.rawValue)
        }
    }

    var description: String {
        switch self {
        case .text(let s): return "text(\(s.debugDescription))"
        case .binary(let b): return "binary(\(b.count) bytes)"
        case .ping(let b): return "ping(\(b))"
        case .pong(let b): return "pong(\(b))"
        case .closed(let c, let r): return "closed(\(c.map(String.init) ?? "nil"), \(r.debugDescription))"
        case .failed(let c): return "failed(\(c))"
        }
    }
}

extension WebSocketEngine {
    /// Feeds bytes (appended to `buffer`) and returns every event until the engine needs more.
    mutating func feed(_ bytes: [UInt8], into buffer: inout ByteBuffer) -> [Event] {
        buffer.writeBytes(bytes)
        var events: [Event] = []
        while let e = receive(from: &buffer) { events.append(Event(e)) }
        return events
    }

    /// Feeds bytes in a fresh buffer.
    mutating func feed(_ bytes: [UInt8]) -> [Event] {
        var buffer = ByteBuffer()
        return feed(bytes, into: &buffer)
    }

    /// The frames queued for the peer, parsed as the peer would.
    mutating func sentFrames() -> [WireFrame] {
        guard let out = takeOutbound() else { return [] }
        let parsed = parseFrames(out.bytes, role: role == .server ? .client : .server)
        #expect(parsed.error == nil, "engine wrote frames its peer cannot parse: \(String(describing: parsed.error))")
        return parsed.frames
    }
}

func frame(_ opcode: WireOpcode, _ payload: [UInt8], fin: Bool = true) -> WireFrame {
    WireFrame(fin: fin, opcode: opcode, payload: ByteBuffer(bytes: payload))
}

func frame(_ opcode: WireOpcode, _ text: String, fin: Bool = true) -> WireFrame {
    frame(opcode, Array(text.utf8), fin: fin)
}
