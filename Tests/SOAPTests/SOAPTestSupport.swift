import NIOCore
import SOAP
import Switchboard
import SwitchboardCore
import SwitchboardExamples
import SwitchboardTestSupport
import SwitchboardXML
import Testing

// Loopback helpers: a server with a SOAP route, a raw-text client ("wire") that sends
// envelopes as written and parses what comes back with the parser under test's limits
// loosened, and a typed client.

let calc = SOAPCalculatorDemo.namespace
let env12 = SOAPVersion.soap12.envelopeNamespace
let env11 = SOAPVersion.soap11.envelopeNamespace
let wsa = "http://www.w3.org/2005/08/addressing"

/// Serves `handler` at /soap on 127.0.0.1, port 0, and runs `body` with the port.
func withSOAPServer(
    _ handler: SOAPHandler = SOAPCalculatorDemo.handler(), seconds: Double = 30, _ body: @escaping @Sendable (_ port: Int) async throws -> Void
) async throws {
    var routes = WebSocketRoutes()
    routes.add("/soap", .soap(handler))
    let configuration = WebSocketServerConfiguration(host: "127.0.0.1", port: 0, routes: routes, shutdownTimeout: .seconds(1))
    try await withLoopbackServer(configuration, seconds: seconds) { _, port in try await body(port) }
}

func soapURL(_ port: Int) -> String { "ws://127.0.0.1:\(port)/soap" }

/// A SOAP client writing raw text: what a peer that is not us might send.
struct SOAPWire: Sendable {
    let outbound: WebSocketOutbound
    let mailbox: Mailbox

    func send(_ text: String) async throws { try await outbound.send(text: text) }

    /// The next message as an element; fails the test when none comes within `timeout`.
    func receive(within timeout: Duration = .seconds(10)) async throws -> XElement {
        guard let text = await mailbox.next(within: timeout) else { throw TestTimeout(what: "an answer within \(timeout)") }
        let loose = XMLLimits(maxDepth: 64, maxAttributesPerElement: 64, maxNamespaceDeclarations: 64, allowsComments: true)
        return try XMLParser.parse(Array(text.utf8), limits: loose)
    }

    func exchange(_ text: String) async throws -> XElement {
        try await send(text)
        return try await receive()
    }

    /// Whatever arrives within `timeout`, or `nil`.
    func stray(within timeout: Duration = .milliseconds(300)) async -> String? { await mailbox.next(within: timeout) }
}

/// Connects to /soap as a raw client of `version` (the `soap-content-type` it sends; `nil` sends none).
@discardableResult
func withSOAPWire(
    port: Int, contentType: String? = SOAPVersion.soap12.contentType, _ body: @escaping @Sendable (SOAPWire) async throws -> Void
) async throws -> WebSocketCloseFrame? {
    let failure = Locked<(any Error)?>(nil)
    var configuration = WebSocketClientConfiguration(subprotocols: [SOAPHandler.token])
    if let contentType { configuration.headers.add(name: SOAPHandler.contentTypeHeader, value: contentType) }
    let close = try await WebSocketConnector.connect(to: soapURL(port), configuration: configuration) { inbound, outbound, _ in
        let mailbox = Mailbox()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { mailbox.close() }
                for try await message in inbound { mailbox.put(message.text ?? "<binary \(message.data.readableBytes) bytes>") }
            }
            do { try await body(SOAPWire(outbound: outbound, mailbox: mailbox)) } catch { failure.withLock { $0 = error } }
            try? await outbound.close()
            try await group.waitForAll()
        }
    }
    if let error = failure.value { throw error }
    return close
}

/// Runs a typed client (``SOAPHandler`` with a session) against /soap.
func withSOAPPeer(
    port: Int, operations: SOAPOperations = SOAPOperations(namespace: calc), configuration: SOAPConfiguration = SOAPConfiguration(),
    _ session: @escaping @Sendable (SOAPPeer) async throws -> Void
) async throws {
    let failure = Locked<(any Error)?>(nil)
    let client = SOAPHandler(operations: operations, configuration: configuration) { peer in
        do { try await session(peer) } catch { failure.withLock { $0 = error } }
    }
    let clientConfiguration = WebSocketClientConfiguration(subprotocols: [SOAPHandler.token], headers: client.handshakeHeaders)
    _ = try await WebSocketConnector.connect(to: soapURL(port), configuration: clientConfiguration) { try await client.handle($0, $1, context: $2) }
    if let error = failure.value { throw error }
}

/// An envelope of `version` around `body`, with `headers` as written.
func envelope(_ body: String, headers: String? = nil, version: SOAPVersion = .soap12) -> String {
    let header = headers.map { "<e:Header>\($0)</e:Header>" } ?? ""
    return #"<e:Envelope xmlns:e="\#(version.envelopeNamespace)" xmlns:wsa="\#(wsa)">\#(header)<e:Body>\#(body)</e:Body></e:Envelope>"#
}

let add23 = #"<Add xmlns="urn:example:calc"><a>2</a><b>3</b></Add>"#

/// What a fault element says, read with the XML layer (not with the module under test).
struct ReadFault: Equatable {
    var version: SOAPVersion
    var code: String
    var subcode: String?
    var reason: String
    var headers: [XElement]
    var relatesTo: String?

    init?(_ envelope: XElement) {
        guard envelope.name.local == "Envelope", let namespace = envelope.name.namespace,
            let version = SOAPVersion.allCases.first(where: { $0.envelopeNamespace == namespace }),
            let fault = envelope.element(XName("Body", namespace: namespace))?.element(XName("Fault", namespace: namespace))
        else { return nil }
        self.version = version
        headers = envelope.element(XName("Header", namespace: namespace))?.elements ?? []
        relatesTo = headers.first { $0.name == XName("RelatesTo", namespace: wsa) }?.text
        func local(_ qname: String) -> String { String(qname.split(separator: ":").last ?? "") }
        switch version {
        case .soap12:
            let code = fault.element(XName("Code", namespace: namespace))
            self.code = local(code?.element(XName("Value", namespace: namespace))?.text ?? "")
            subcode = code?.element(XName("Subcode", namespace: namespace))?.element(XName("Value", namespace: namespace)).map { local($0.text) }
            reason = fault.element(XName("Reason", namespace: namespace))?.element(XName("Text", namespace: namespace))?.text ?? ""
        case .soap11:
            code = local(fault.element(XName("faultcode"))?.text ?? "")
            subcode = nil
            reason = fault.element(XName("faultstring"))?.text ?? ""
        }
    }
}

/// The first body element of an answer that is not a fault.
func bodyElement(_ envelope: XElement) -> XElement? {
    guard let namespace = envelope.name.namespace else { return nil }
    return envelope.element(XName("Body", namespace: namespace))?.elements.first
}
