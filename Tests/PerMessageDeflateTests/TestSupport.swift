import NIOCore
import PerMessageDeflate
import SwitchboardCore
import SwitchboardTestSupport
import Testing

// Helpers of the permessage-deflate tests: parse header elements, negotiate a
// client and a server the way the handshake does, and pipe bytes between two
// WebSocketEngines while keeping a copy of what went over the wire.

/// Bytes that DEFLATE cannot shrink.
func incompressibleBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var rng = SeededRandom(seed: seed)
    var out = [UInt8]()
    out.reserveCapacity(count + 8)
    while out.count < count {
        let word = rng.next()
        for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
    }
    return Array(out.prefix(count))
}

/// Bytes that DEFLATE shrinks well: words chosen at random, with some noise.
func compressibleBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var rng = SeededRandom(seed: seed)
    let words = ["alpha ", "bravo ", "charlie ", "delta ", "echo ", "foxtrot ", "{\"id\":", "}, "].map { Array($0.utf8) }
    var out = [UInt8]()
    out.reserveCapacity(count + 16)
    while out.count < count {
        out += words[Int(rng.next() % UInt64(words.count))]
        if rng.next() % 8 == 0 { out.append(UInt8(ascii: "0") + UInt8(rng.next() % 10)) }
    }
    return Array(out.prefix(count))
}

/// Valid UTF-8 of exactly `count` bytes: random scalars of 1 to 4 bytes (incompressible) or words (compressible).
func textBytes(_ count: Int, compressible: Bool, seed: UInt64) -> [UInt8] {
    if compressible { return compressibleBytes(count, seed: seed) }  // ASCII words and digits: valid UTF-8
    var rng = SeededRandom(seed: seed)
    var out = [UInt8]()
    out.reserveCapacity(count)
    while out.count < count {
        let room = count - out.count
        let ranges: [ClosedRange<UInt32>] = [0x20...0x7E, 0x80...0x7FF, 0x800...0xD7FF, 0x10000...0x10FFFF]
        let width = min(room, Int(rng.next() % 4) + 1)
        let range = ranges[width - 1]
        let scalar = Unicode.Scalar(range.lowerBound + UInt32(rng.next() % UInt64(range.count)))!
        out += Array(String(Character(scalar)).utf8)
    }
    return out
}

extension ByteBuffer {
    var bytes: [UInt8] { Array(readableBytesView) }
}

/// Parses `permessage-deflate; a; b=1` (one element or a list) as the handshake does.
func elements(_ header: String) throws -> [ExtensionOffer] {
    try ExtensionHeader.parse([header])
}

func element(_ header: String) throws -> ExtensionOffer {
    try #require(try elements(header).first)
}

struct NegotiationFailed: Error {}

/// An engine event in a comparable form.
enum Event: Equatable, CustomStringConvertible {
    case text([UInt8])
    case binary([UInt8])
    case ping([UInt8])
    case pong([UInt8])
    case closed(UInt16?, String)
    case failed(UInt16)

    init(_ event: WebSocketEvent) {
        switch event {
        case .message(let m): self = m.kind == .text ? .text(m.data.bytes) : .binary(m.data.bytes)
        case .ping(let p): self = .ping(p.bytes)
        case .pong(let p): self = .pong(p.bytes)
        case .closed(let c): self = .closed(c.code?.rawValue, c.reason)
        case .failed(let e): self = .failed(e.closeCode.rawValue)
        }
    }

    /// Short, so that a failing 1 MiB comparison does not print a megabyte.
    var description: String {
        func short(_ b: [UInt8]) -> String { b.count <= 32 ? "\(b)" : "\(b.count) bytes \(Array(b.prefix(16)))..." }
        switch self {
        case .text(let b): return "text(\(short(b)))"
        case .binary(let b): return "binary(\(short(b)))"
        case .ping(let b): return "ping(\(short(b)))"
        case .pong(let b): return "pong(\(short(b)))"
        case .closed(let c, let r): return "closed(\(c.map(String.init) ?? "nil"), \(r))"
        case .failed(let c): return "failed(\(c))"
        }
    }
}

/// Everything the receiving engine made of one batch of bytes, and the frames those bytes held.
struct Delivery {
    /// The frames as they went over the wire (unmasked, still compressed).
    var wire: [WireFrame]
    /// Bytes on the wire, headers included.
    var wireBytes: Int
    var events: [Event]
}

/// Reads the frames in `bytes` as they are on the wire, accepting every reserved bit.
func wireFrames(_ bytes: ByteBuffer, sentBy sender: WebSocketRole) -> [WireFrame] {
    var parser = FrameParser(
        role: sender == .client ? .server : .client, maxFrameSize: Int.max,
        allowedReservedBits: [.rsv1, .rsv2, .rsv3])
    var buffer = bytes
    var frames: [WireFrame] = []
    while true {
        guard let result = try? parser.next(from: &buffer) else {
            Issue.record("unparseable bytes on the wire")
            return frames
        }
        switch result {
        case .frame(let frame): frames.append(frame)
        case .partial: continue
        case .needMoreData: return frames
        }
    }
}

/// Feeds `bytes` to `engine` and collects its events.
func deliver(_ bytes: ByteBuffer, to engine: inout WebSocketEngine) -> [Event] {
    var buffer = bytes
    var events: [Event] = []
    while let event = engine.receive(from: &buffer) { events.append(Event(event)) }
    return events
}

/// What `engine` queued for its peer; fails the test when nothing was.
func outbound(_ engine: inout WebSocketEngine) throws -> ByteBuffer {
    let bytes = engine.takeOutbound()
    return try #require(bytes)
}

/// The bytes of frames written by hand (FrameWriter, masked as a client must).
func clientWire(_ frames: [WireFrame]) -> ByteBuffer {
    var buffer = ByteBuffer()
    for frame in frames { FrameWriter.write(frame, maskingKey: WireMaskingKey(0x37, 0xFA, 0x21, 0x3D), into: &buffer) }
    return buffer
}

func serverWire(_ frames: [WireFrame]) -> ByteBuffer {
    var buffer = ByteBuffer()
    for frame in frames { FrameWriter.write(frame, maskingKey: nil, into: &buffer) }
    return buffer
}

/// Limits roomy enough that only permessage-deflate's own limit applies.
let roomyLimits = WebSocketLimits(maxFrameSize: 8 << 20, maxMessageSize: 8 << 20)

/// A client and a server engine that negotiated permessage-deflate as a handshake would:
/// the client's offers, the server's `serverAccept`, the client's `clientAccept`.
struct Link {
    var client: WebSocketEngine
    var server: WebSocketEngine
    let offer: String
    let response: ExtensionOffer

    init(
        server serverFactory: PerMessageDeflate = PerMessageDeflate(),
        client clientFactory: PerMessageDeflate = PerMessageDeflate(),
        serverLimits: WebSocketLimits = roomyLimits, clientLimits: WebSocketLimits = roomyLimits
    ) throws {
        let offers = clientFactory.clientOffers()
        guard let (response, serverExtension) = serverFactory.serverAccept(offers) else { throw NegotiationFailed() }
        let clientExtension = try clientFactory.clientAccept(response)
        self.init(
            client: WebSocketEngine(role: .client, limits: clientLimits, extensions: [clientExtension]),
            server: WebSocketEngine(role: .server, limits: serverLimits, extensions: [serverExtension]),
            offer: ExtensionHeader.serialize(offers), response: response)
    }

    init(client: WebSocketEngine, server: WebSocketEngine, offer: String, response: ExtensionOffer) {
        self.client = client
        self.server = server
        self.offer = offer
        self.response = response
    }

    /// Moves what the client queued to the server.
    mutating func clientToServer() -> Delivery {
        let bytes = client.takeOutbound() ?? ByteBuffer()
        return Delivery(wire: wireFrames(bytes, sentBy: .client), wireBytes: bytes.readableBytes, events: deliver(bytes, to: &server))
    }

    /// Moves what the server queued to the client.
    mutating func serverToClient() -> Delivery {
        let bytes = server.takeOutbound() ?? ByteBuffer()
        return Delivery(wire: wireFrames(bytes, sentBy: .server), wireBytes: bytes.readableBytes, events: deliver(bytes, to: &client))
    }

    /// Sends `message` one way and returns what crossed the wire and what arrived.
    mutating func send(_ message: WebSocketMessage, from role: WebSocketRole) throws -> Delivery {
        if role == .client {
            try client.send(message)
            return clientToServer()
        } else {
            try server.send(message)
            return serverToClient()
        }
    }
}

func message(_ kind: WebSocketMessage.Kind, _ bytes: [UInt8]) -> WebSocketMessage {
    WebSocketMessage(kind: kind, data: ByteBuffer(bytes: bytes))
}

func event(_ kind: WebSocketMessage.Kind, _ bytes: [UInt8]) -> Event {
    kind == .text ? .text(bytes) : .binary(bytes)
}

let deflateTail: [UInt8] = [0x00, 0x00, 0xFF, 0xFF]

func endsWithTail(_ payload: ByteBuffer) -> Bool {
    payload.readableBytes >= 4 && Array(payload.readableBytesView.suffix(4)) == deflateTail
}
