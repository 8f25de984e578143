import NIOCore
import PerMessageDeflate
import SwitchboardCore
import Testing

@testable import Multiplex

/// The draft's negotiation rules, which are Multiplex's own: the core only lets an
/// extension adopt what was accepted before it.
@Suite("Mux negotiation: channel extensions before the token, one multiplexer, none inside a channel")
struct MuxNegotiationTests {
    static let serverFactories: [any WebSocketExtensionFactory] = [PerMessageDeflate(), Multiplex(), Multiplex(revision: .draft06)]

    static func negotiate(_ header: String) throws -> ServerExtensionNegotiation {
        ExtensionNegotiation.serverNegotiate(offers: try ExtensionHeader.parse([header]), factories: serverFactories)
    }

    @Test("Offers before the mux token are the implicit channel's; after it, the physical connection's")
    func channelExtensionsBeforeTheToken() throws {
        // Offers as our client writes them (it asks for server_max_window_bits and checks the answer has it).
        let deflate = ExtensionNegotiation.clientOfferHeader([PerMessageDeflate()])!
        let negotiated = try Self.negotiate("\(deflate), mux; quota=100, \(deflate)")
        #expect(negotiated.extensions.map(\.name) == ["mux", "permessage-deflate"])
        let mux = try #require(negotiated.extensions.first as? MultiplexExtension)
        #expect(mux.channelExtensions.map(\.name) == ["permessage-deflate"])
        let header = try #require(negotiated.header)
        #expect(header.hasPrefix("permessage-deflate") && header.contains(", mux, permessage-deflate"), "\(header)")
        // A client that offered both reads the same split from that answer.
        let client = try ExtensionNegotiation.clientAccept(response: [header], factories: [PerMessageDeflate(), Multiplex()])
        #expect(client.map(\.name) == ["mux", "permessage-deflate"])
        #expect((client.first as? MultiplexExtension)?.channelExtensions.map(\.name) == ["permessage-deflate"])
    }

    @Test(
        "Without an accepted mux token every extension is the physical connection's",
        arguments: [
            "permessage-deflate, mux; quota=x", "permessage-deflate",
        ])
    func noMux(header: String) throws {
        #expect(try Self.negotiate(header).extensions.map(\.name) == ["permessage-deflate"])
    }

    @Test(
        "One multiplexer: the server's first that the client offered, whatever the client's order",
        arguments: [
            ("mux_DO_NOT_USE, mux", "mux"), ("mux, mux_DO_NOT_USE", "mux"), ("mux_DO_NOT_USE", "mux_DO_NOT_USE"),
            ("mux; quota=x, mux_DO_NOT_USE", "mux_DO_NOT_USE"),
        ])
    func oneMultiplexer(offer: String, answer: String) throws {
        let negotiated = try Self.negotiate(offer)
        #expect(negotiated.extensions.map(\.name) == [answer])
        #expect(negotiated.header == answer)
    }

    @Test("A channel's handshake cannot multiplex: its mux offer is left out, its other offers negotiated")
    func noMuxInsideAChannel() throws {
        let (session, host) = try serverSession(serverExtensions: Self.serverFactories)
        _ = host.takeControl()
        session.receive(addChannel(2, extra: "Sec-WebSocket-Extensions: mux; quota=10, permessage-deflate\r\n"))
        guard case .addChannelResponse(let response)? = host.takeControl().first else {
            Issue.record("no response")
            return
        }
        let text = String(buffer: response.handshake)
        #expect(!response.rejected && text.contains("permessage-deflate") && !text.contains("mux"), "\(text)")
        #expect(host.opened.first?.channel.extensions == ["permessage-deflate"])
    }
}
