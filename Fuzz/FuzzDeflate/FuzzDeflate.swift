import FuzzDriver
import NIOCore
import PerMessageDeflate
import SwitchboardCore

/// The permessage-deflate decoder on whatever a peer sends as a compressed message, cut
/// into fragments by the input's first byte; then a round trip: the same bytes compressed
/// by a client and decoded by the server must come back unchanged.
@_cdecl("FuzzDeflate_main")
public func fuzzDeflateMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    switchboard_fuzz_main(argc, argv, fuzzDeflate)
}

func fuzzDeflate(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start = data else { return 0 }
    guard count > 0 else { return 0 }
    let control = start[0]
    let payload = ByteBuffer(bytes: UnsafeBufferPointer(start: start + 1, count: count - 1))
    let limits = WebSocketLimits(maxFrameSize: 1 << 16, maxMessageSize: 1 << 16)
    let offer = control & 0x80 == 0 ? "permessage-deflate" : "permessage-deflate; client_no_context_takeover; client_max_window_bits=9"

    // 1. Arbitrary bytes as a compressed message: an error closes (1007/1009), never a crash or a limit passed.
    var server = Pair.server(offer: offer, limits: limits)
    let fragments = Int(control & 0x07) + 1
    let pieceSize = max(1, payload.readableBytes / fragments)
    var rest = payload
    var first = true
    repeat {
        let piece = rest.readSlice(length: min(pieceSize, rest.readableBytes))!
        let frame = WireFrame(
            fin: rest.readableBytes == 0, reservedBits: first ? .rsv1 : [], opcode: first ? .binary : .continuation,
            payload: piece)
        first = false
        for event in server.receive(frame: frame) {
            if case .message(let message) = event { precondition(message.data.readableBytes <= limits.maxMessageSize) }
        }
    } while rest.readableBytes > 0 && server.failure == nil

    // 2. Round trip through a client's compressor and a server's decompressor, negotiated as a client offers.
    var (client, receiver) = Pair.connected(small: control & 0x80 != 0, limits: limits)
    guard (try? client.send(.binary(payload))) != nil else { return 0 }
    var received: ByteBuffer?
    for frame in client.takeOutboundFrames() {
        for event in receiver.receive(frame: frame) {
            if case .message(let message) = event { received = message.data }
        }
    }
    precondition(received == payload, "a compressed message did not come back unchanged")
    return 0
}

enum Pair {
    static func server(offer: String, limits: WebSocketLimits) -> WebSocketEngine {
        let (_, ext) = PerMessageDeflate().serverAccept(try! ExtensionHeader.parse([offer]))!
        return WebSocketEngine(role: .server, limits: limits, extensions: [ext], framing: .frames)
    }

    /// A client and a server that negotiated what the client offers: the defaults, or small
    /// windows without context takeover.
    static func connected(small: Bool, limits: WebSocketLimits) -> (client: WebSocketEngine, server: WebSocketEngine) {
        let configuration =
            small
            ? PerMessageDeflate.Configuration(
                maxWindowBits: 9, peerMaxWindowBits: 9, noContextTakeover: true,
                requestPeerNoContextTakeover: true)
            : PerMessageDeflate.Configuration()
        let client = PerMessageDeflate(configuration: configuration)
        let (response, serverExtension) = PerMessageDeflate().serverAccept(client.clientOffers())!
        let clientExtension = try! client.clientAccept(response)
        return (
            WebSocketEngine(role: .client, limits: limits, extensions: [clientExtension], framing: .frames),
            WebSocketEngine(role: .server, limits: limits, extensions: [serverExtension], framing: .frames)
        )
    }
}
