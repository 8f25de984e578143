import SwitchboardCore

/// permessage-deflate (RFC 7692): compresses each message with DEFLATE.
///
/// Register it on a server or a client:
///
/// ```swift
/// let server = WebSocketServer(configuration: .init(routes: routes, extensions: [PerMessageDeflate()]))
/// ```
///
/// ## Memory per connection
///
/// zlib needs `(1 << (windowBits + 2)) + (1 << (memoryLevel + 9))` bytes to
/// compress and `(1 << windowBits) + ~7 KiB` to decompress. At zlib's own
/// defaults (15 bits, memory level 8) that is 256 KiB + 32 KiB per
/// connection. The defaults here are 12 bits and memory level 5:
///
/// | setting                         | compress | decompress |
/// |---------------------------------|----------|------------|
/// | 15 bits, memory level 8 (zlib)  | 256 KiB  | 39 KiB     |
/// | 12 bits, memory level 5 (default) | 32 KiB | 11 KiB     |
/// | 9 bits, memory level 1          | 3 KiB    | 7.5 KiB    |
///
/// Both streams are created on first use, so a connection that has not yet
/// sent or received a compressed message holds nothing. With no context
/// takeover on a side, that side's stream is freed after every message, so an
/// idle connection holds nothing for it either (the price is a worse ratio
/// on small, similar messages).
public struct PerMessageDeflate: WebSocketExtensionFactory {
    public struct Configuration: Sendable, Hashable {
        /// zlib level, 0 (store) to 9 (smallest). Default 6: compression is switched on
        /// to save bytes, and with these windows level 1 sends 1.14x level 6's bytes on
        /// XML, JSON and HTML messages for 1.38x the compressor's speed (1.2-1.4x the
        /// messages per second of an echo server); set 1 when CPU, not the link, is the
        /// limit (`scripts/deflate-levels.py`, Benchmarks/NIOEcho/README.md, round 6).
        public var compressionLevel: Int
        /// LZ77 window for what this endpoint compresses, 9 to 15. Default 12
        /// (4 KiB): most of the gain on JSON-sized messages at an eighth of the
        /// memory of 15. zlib cannot compress with 8 (see ``PerMessageDeflate``).
        public var maxWindowBits: Int
        /// The window asked of the peer's compressor, 8 to 15, when the peer lets
        /// us choose (`client_max_window_bits` in a client's offer). Default 12.
        public var peerMaxWindowBits: Int
        /// zlib memory level, 1 to 9. Default 5: 16 KiB of hash tables instead of 128 KiB.
        public var memoryLevel: Int
        /// Do not keep compression history between our messages (frees our stream when idle).
        public var noContextTakeover: Bool
        /// Ask the peer not to keep history between its messages.
        public var requestPeerNoContextTakeover: Bool
        /// Messages smaller than this are sent uncompressed: DEFLATE cannot win on
        /// a few bytes and the CPU is wasted. Default 64 bytes.
        public var compressionThreshold: Int
        /// The most bytes one message may inflate to; past it the connection closes
        /// with 1009 while inflating, so a small bomb is never inflated in full.
        /// Default 1 MiB, like `WebSocketLimits.maxMessageSize`.
        public var maxDecompressedMessageSize: Int

        public init(
            compressionLevel: Int = 6, maxWindowBits: Int = 12, peerMaxWindowBits: Int = 12, memoryLevel: Int = 5,
            noContextTakeover: Bool = false, requestPeerNoContextTakeover: Bool = false,
            compressionThreshold: Int = 64, maxDecompressedMessageSize: Int = 1 << 20
        ) {
            self.compressionLevel = min(9, max(0, compressionLevel))
            self.maxWindowBits = min(15, max(9, maxWindowBits))
            self.peerMaxWindowBits = min(15, max(8, peerMaxWindowBits))
            self.memoryLevel = min(9, max(1, memoryLevel))
            self.noContextTakeover = noContextTakeover
            self.requestPeerNoContextTakeover = requestPeerNoContextTakeover
            self.compressionThreshold = compressionThreshold
            self.maxDecompressedMessageSize = maxDecompressedMessageSize
        }
    }

    public static let token = "permessage-deflate"
    public var token: String { Self.token }
    public var reservedBits: WireFrame.ReservedBits { .rsv1 }  // §6: the "Per-Message Compressed" bit
    public var configuration: Configuration

    public init(configuration: Configuration = Configuration()) { self.configuration = configuration }

    // MARK: Client (§7.1: the client offers, the server answers, the client checks)

    public func clientOffers() -> [ExtensionOffer] {
        var offer = DeflateParameters()
        offer.clientMaxWindowBits = .some(nil)  // §7.1.2.2: we can limit our window to whatever the server asks (but 8)
        if configuration.peerMaxWindowBits < 15 { offer.serverMaxWindowBits = configuration.peerMaxWindowBits }
        offer.clientNoContextTakeover = configuration.noContextTakeover
        offer.serverNoContextTakeover = configuration.requestPeerNoContextTakeover
        return [offer.element(token: token)]
    }

    public func clientAccept(_ response: ExtensionOffer) throws(ExtensionNegotiationError) -> any WebSocketExtension {
        let answer = try DeflateParameters(response, as: .response)
        let offered = try DeflateParameters(clientOffers()[0], as: .offer)
        // §7.1.1.1: a server_no_context_takeover we asked for must be granted.
        if offered.serverNoContextTakeover && !answer.serverNoContextTakeover {
            throw ExtensionNegotiationError("server ignored server_no_context_takeover")
        }
        // §7.1.2.1: the server's window may only be what we offered or smaller; if we asked, it must answer.
        if let limit = offered.serverMaxWindowBits {
            guard let bits = answer.serverMaxWindowBits else { throw ExtensionNegotiationError("server_max_window_bits missing from the response") }
            guard bits <= limit else { throw ExtensionNegotiationError("server_max_window_bits \(bits) exceeds the offered \(limit)") }
        }
        // §7.1.2.2: client_max_window_bits only if offered; and zlib cannot compress with an 8-bit window.
        var ourWindow = configuration.maxWindowBits
        if let bits = answer.clientMaxWindowBits.flatMap({ $0 }) {
            guard offered.clientMaxWindowBits != nil else { throw ExtensionNegotiationError("client_max_window_bits was not offered") }
            guard bits >= 9 else {
                throw ExtensionNegotiationError("client_max_window_bits=8 cannot be honoured: zlib does not compress with an 8-bit window")
            }
            ourWindow = min(ourWindow, bits)
        }
        return PerMessageDeflateExtension(
            configuration: configuration,
            compressWindowBits: ourWindow,
            compressNoContextTakeover: answer.clientNoContextTakeover || configuration.noContextTakeover,
            decompressWindowBits: answer.serverMaxWindowBits ?? 15,
            decompressNoContextTakeover: answer.serverNoContextTakeover)
    }

    // MARK: Server

    /// Takes the first offer it can honour (§7.1, "a server ... MUST decline an
    /// offer it cannot accept, and then may accept a later one").
    public func serverAccept(_ offers: [ExtensionOffer]) -> (response: ExtensionOffer, extension: any WebSocketExtension)? {
        for element in offers {
            guard let offer = try? DeflateParameters(element, as: .offer) else { continue }
            var response = DeflateParameters()
            // Our compressor's window: at most what the client allows (§7.1.2.1); zlib cannot use 8.
            var ourWindow = configuration.maxWindowBits
            if let limit = offer.serverMaxWindowBits {
                guard limit >= 9 else { continue }
                ourWindow = min(ourWindow, limit)
                response.serverMaxWindowBits = ourWindow
            }
            // §7.1.1.1: a client asking for server_no_context_takeover gets it; we may also choose it.
            response.serverNoContextTakeover = offer.serverNoContextTakeover || configuration.noContextTakeover
            // §7.1.2.2: the client's window may be limited only if it offered the parameter, and not above its value.
            var peerWindow = 15
            if let offered = offer.clientMaxWindowBits {
                peerWindow = min(configuration.peerMaxWindowBits, offered ?? 15)
                if peerWindow < 15 || offered != nil { response.clientMaxWindowBits = .some(peerWindow) }
            }
            // §7.1.1.2: we may ask the client not to keep context; a client that offered it will not either way.
            response.clientNoContextTakeover = configuration.requestPeerNoContextTakeover
            let ext = PerMessageDeflateExtension(
                configuration: configuration,
                compressWindowBits: ourWindow,
                compressNoContextTakeover: response.serverNoContextTakeover,
                decompressWindowBits: peerWindow,
                decompressNoContextTakeover: response.clientNoContextTakeover)
            return (response.element(token: token), ext)
        }
        return nil
    }
}
