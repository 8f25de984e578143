import NIOCore
import SOAP
import SwitchboardCore
import SwitchboardExamples
import SwitchboardTestSupport
import SwitchboardXML
import Testing

/// Every fault rule of SOAP 1.2 Part 1 §5 / SOAP 1.1 §4 the endpoint applies, sent as raw
/// envelopes, each followed by a normal call on the same socket (a fault never ends it).
@Suite struct SOAPFaultRulesTests {
    @Test(arguments: SOAPVersion.allCases)
    func answersAndDivisionByZero(_ version: SOAPVersion) async throws {
        try await withSOAPServer { port in
            try await withSOAPWire(port: port, contentType: version.contentType) { wire in
                let answer = try await wire.exchange(envelope(add23, version: version))
                #expect(answer.name == XName("Envelope", namespace: version.envelopeNamespace))
                #expect(bodyElement(answer)?.name == XName("AddResponse", namespace: calc))
                #expect(bodyElement(answer)?.element(XName("result", namespace: calc))?.text == "5")

                let fault = try #require(
                    ReadFault(try await wire.exchange(envelope(#"<Divide xmlns="urn:example:calc"><a>1</a><b>0</b></Divide>"#, version: version))))
                #expect(fault.version == version)
                #expect(fault.code == (version == .soap12 ? "Sender" : "Client"))
                #expect(fault.subcode == (version == .soap12 ? "DivisionByZero" : nil))
                #expect(fault.reason == "division by zero")
            }
        }
    }

    @Test func mustUnderstandHeadersNotUnderstoodAreAFaultNamingThem() async throws {
        try await withSOAPServer { port in
            try await withSOAPWire(port: port) { wire in
                let header = #"<x:Tx xmlns:x="urn:tx" e:mustUnderstand="true">1</x:Tx><y:Log xmlns:y="urn:log">ignored</y:Log>"#
                let answer = try await wire.exchange(envelope(add23, headers: header))
                let fault = try #require(ReadFault(answer))
                #expect(fault.code == "MustUnderstand")
                let notUnderstood = fault.headers.filter { $0.name == XName("NotUnderstood", namespace: env12) }
                #expect(notUnderstood.count == 1)
                let qname = try #require(notUnderstood.first?.attribute(XName("qname")))
                let prefix = String(qname.split(separator: ":")[0])
                #expect(notUnderstood.first?.declarations.contains(XNamespaceDeclaration(prefix: prefix, uri: "urn:tx")) == true)

                // Aimed at another role: not ours to understand. WS-Addressing's own: understood.
                let otherRole =
                    #"<x:Tx xmlns:x="urn:tx" e:mustUnderstand="true" e:role="urn:someone-else">1</x:Tx><wsa:Action e:mustUnderstand="1">urn:example:calc/Add</wsa:Action>"#
                let next = try await wire.exchange(envelope(add23, headers: otherRole))
                #expect(bodyElement(next)?.name.local == "AddResponse")
            }
            try await withSOAPWire(port: port, contentType: SOAPVersion.soap11.contentType) { wire in
                let header = #"<x:Tx xmlns:x="urn:tx" e:mustUnderstand="1">1</x:Tx>"#
                let fault = try #require(ReadFault(try await wire.exchange(envelope(add23, headers: header, version: .soap11))))
                #expect(fault.code == "MustUnderstand")
            }
        }
    }

    @Test func headersTheApplicationUnderstandsAreReadableInTheOperation() async throws {
        var operations = SOAPOperations(namespace: calc)
        operations.register("Who") { (_: SOAPCalculatorDemo.Tick, _) in
            SOAPCalculatorDemo.Tick(n: SOAPPeer.requestHeaders.first { $0.name == XName("Tx", namespace: "urn:tx") }.flatMap { Int($0.text) } ?? -1)
        }
        let handler = SOAPHandler(operations: operations, configuration: SOAPConfiguration(understoodHeaders: [XName("Tx", namespace: "urn:tx")]))
        try await withSOAPServer(handler) { port in
            try await withSOAPWire(port: port) { wire in
                let header = #"<x:Tx xmlns:x="urn:tx" e:mustUnderstand="true">7</x:Tx>"#
                let answer = try await wire.exchange(envelope(#"<Who xmlns="urn:example:calc"><n>0</n></Who>"#, headers: header))
                #expect(bodyElement(answer)?.element(XName("n", namespace: calc))?.text == "7")
            }
        }
    }

    @Test func versionMismatch() async throws {
        try await withSOAPServer { port in
            try await withSOAPWire(port: port) { wire in
                // A SOAP 1.1 envelope on a 1.2 connection: a 1.1 fault (SOAP 1.2 Appendix A) with the Upgrade header.
                let fault = try #require(ReadFault(try await wire.exchange(envelope(add23, version: .soap11))))
                #expect(fault.version == .soap11 && fault.code == "VersionMismatch")
                let upgrade = try #require(fault.headers.first { $0.name == XName("Upgrade", namespace: env12) })
                let supported = try #require(upgrade.element(XName("SupportedEnvelope", namespace: env12)))
                let qname = try #require(supported.attribute(XName("qname")))
                #expect(supported.declarations.contains(XNamespaceDeclaration(prefix: String(qname.split(separator: ":")[0]), uri: env12)))
                // Not an envelope at all: a fault of this connection's version.
                let other = try #require(ReadFault(try await wire.exchange("<Envelope xmlns='urn:not-soap'><Body/></Envelope>")))
                #expect(other.version == .soap12 && other.code == "VersionMismatch")
                let next = try await wire.exchange(envelope(add23))
                #expect(bodyElement(next)?.name.local == "AddResponse")
            }
        }
    }

    @Test(arguments: [
        ("no Body", #"<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Header/></e:Envelope>"#, "no Body"),
        ("after Body", #"<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/><x/></e:Envelope>"#, "nothing after"),
        ("empty Body", #"<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>"#, "Body is empty"),
        ("unknown operation", envelope(#"<Pow xmlns="urn:example:calc"/>"#), "no operation"),
        ("other namespace", envelope(#"<Add xmlns="urn:other"><a>1</a><b>1</b></Add>"#), "no operation"),
        ("schema", envelope(#"<Add xmlns="urn:example:calc"><a>x</a><b>1</b></Add>"#), "does not match its schema"),
        ("missing field", envelope(#"<Add xmlns="urn:example:calc"><a>1</a></Add>"#), "no <b>"),
        ("overflow", envelope(#"<Multiply xmlns="urn:example:calc"><a>9223372036854775807</a><b>2</b></Multiply>"#), "overflow"),
        ("not well-formed", "<e:Envelope xmlns:e='http://www.w3.org/2003/05/soap-envelope'><e:Body>", "not well-formed"),
        ("DOCTYPE", "<!DOCTYPE e:Envelope>" + envelope(add23), "document type declaration"),
        ("processing instruction", envelope("<?evil?>" + add23), "processing instructions"),
        (
            "external entity",
            #"<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>"# + envelope("<Add xmlns='urn:example:calc'><a>&e;</a><b>1</b></Add>"),
            "document type"
        ),
        ("undeclared entity", envelope("<Add xmlns='urn:example:calc'><a>&e;</a><b>1</b></Add>"), "five predefined"),
        ("deep", envelope(String(repeating: "<a>", count: 10_000) + String(repeating: "</a>", count: 10_000)), "nest deeper than 32"),
    ])
    func senderFaults(_ name: String, _ message: String, _ reason: String) async throws {
        try await withSOAPServer { port in
            try await withSOAPWire(port: port) { wire in
                let fault = try #require(ReadFault(try await wire.exchange(message)), "\(name)")
                #expect(fault.code == "Sender", "\(name)")
                #expect(fault.reason.contains(reason), "\(name): \(fault.reason)")
                #expect(!fault.reason.contains("root:"), "\(name)")
                let next = try await wire.exchange(envelope(add23))
                #expect(bodyElement(next)?.name.local == "AddResponse", "\(name): the connection goes on")
            }
        }
    }

    @Test func billionLaughsIsASenderFaultAndNothingIsExpanded() async throws {
        var bomb = #"<!DOCTYPE e:Envelope [<!ENTITY lol "lol">"#
        for level in 1...9 { bomb += "<!ENTITY lol\(level) \"" + String(repeating: "&lol\(level == 1 ? "" : String(level - 1));", count: 10) + "\">" }
        bomb += "]>" + envelope("<Add xmlns='urn:example:calc'><a>&lol9;</a><b>1</b></Add>")
        let message = bomb
        try await withSOAPServer { port in
            try await withSOAPWire(port: port) { wire in
                try await wire.send(message)
                guard let text = await wire.mailbox.next(within: .seconds(10)) else { throw TestTimeout(what: "the fault") }
                #expect(text.utf8.count < 2_000)  // the answer is a short fault, no lol in it
                #expect(!text.contains("lollol"))
            }
        }
    }

    @Test func sizeLimitIsAFaultAndTheConnectionGoesOn() async throws {
        let handler = SOAPHandler(operations: SOAPCalculatorDemo.operations(), configuration: SOAPConfiguration(maxMessageSize: 4096))
        try await withSOAPServer(handler) { port in
            try await withSOAPWire(port: port) { wire in
                let big = envelope("<Add xmlns='urn:example:calc'><a>1</a><b>1</b><pad>\(String(repeating: "x", count: 5000))</pad></Add>")
                let fault = try #require(ReadFault(try await wire.exchange(big)))
                #expect(fault.code == "Sender" && fault.reason.contains("exceeds the limit of 4096"))
                let next = try await wire.exchange(envelope(add23))
                #expect(bodyElement(next)?.name.local == "AddResponse")
            }
        }
    }

    @Test func operationErrorsAreReceiverFaults() async throws {
        struct Broken: Error {}
        var operations = SOAPOperations(namespace: calc)
        operations.register("Fail") { (_: SOAPCalculatorDemo.Tick, _) -> SOAPCalculatorDemo.Tick in throw Broken() }
        try await withSOAPServer(SOAPHandler(operations: operations)) { port in
            try await withSOAPWire(port: port, contentType: SOAPVersion.soap11.contentType) { wire in
                let fault = try #require(
                    ReadFault(try await wire.exchange(envelope("<Fail xmlns='urn:example:calc'><n>1</n></Fail>", version: .soap11))))
                #expect(fault.code == "Server")
                #expect(!fault.reason.contains("Broken"))  // internals stay in the log
            }
        }
    }

    @Test func addressingRelatesAnswersAndFaultsAndHonoursReplyToNone() async throws {
        try await withSOAPServer { port in
            try await withSOAPWire(port: port) { wire in
                let answer = try await wire.exchange(
                    envelope(add23, headers: "<wsa:MessageID>urn:a:1</wsa:MessageID><wsa:Action>urn:example:calc/Add</wsa:Action>"))
                let headers = answer.element(XName("Header", namespace: env12))?.elements ?? []
                #expect(headers.first { $0.name == XName("RelatesTo", namespace: wsa) }?.text == "urn:a:1")
                #expect(headers.first { $0.name == XName("Action", namespace: wsa) }?.text == "urn:example:calc/AddResponse")

                let fault = try #require(
                    ReadFault(try await wire.exchange(envelope("<Pow xmlns='urn:example:calc'/>", headers: "<wsa:MessageID>urn:a:2</wsa:MessageID>")))
                )
                #expect(fault.relatesTo == "urn:a:2")
                #expect(
                    fault.headers.contains { $0.name == XName("Action", namespace: wsa) && $0.text == "http://www.w3.org/2005/08/addressing/fault" })

                try await wire.send(
                    envelope(
                        add23,
                        headers:
                            "<wsa:MessageID>urn:a:3</wsa:MessageID><wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/none</wsa:Address></wsa:ReplyTo>"
                    ))
                #expect(await wire.stray() == nil)
                // A fault that answers nothing is not answered (no fault ping-pong).
                try await wire.send(
                    envelope("<e:Fault><e:Code><e:Value>e:Sender</e:Value></e:Code><e:Reason><e:Text xml:lang='en'>x</e:Text></e:Reason></e:Fault>"))
                #expect(await wire.stray() == nil)
            }
        }
    }

    @Test func binaryMessagesAndUnknownContentTypesClose1003() async throws {
        try await withSOAPServer { port in
            let close = try await withSOAPWire(port: port) { wire in
                try await wire.outbound.send(binary: ByteBuffer(string: envelope(add23)))
                #expect(await wire.stray(within: .seconds(5)) == nil)
            }
            #expect(close?.code == .unsupportedData)
            let refused = try await withSOAPWire(port: port, contentType: "application/soap+msbin1") { wire in
                #expect(await wire.stray(within: .seconds(5)) == nil)
            }
            #expect(refused?.code == .unsupportedData)
            // No soap-content-type at all: SOAP 1.2.
            try await withSOAPWire(port: port, contentType: nil) { wire in
                let next = try await wire.exchange(envelope(add23))
                #expect(bodyElement(next)?.name.local == "AddResponse")
            }
        }
    }
}
