import SwitchboardXML
import Testing

private let limits = XMLLimits(maxDepth: 32, maxAttributesPerElement: 32, maxNamespaceDeclarations: 64, allowsComments: true)

private func parse(_ text: String, _ limits: XMLLimits = limits) throws(XMLParseError) -> XElement {
    try XMLParser.parse(Array(text.utf8), limits: limits)
}

private func failure(_ text: String, _ limits: XMLLimits = limits) -> XMLParseError? {
    do {
        _ = try parse(text, limits)
        return nil
    } catch {
        return error
    }
}

@Suite struct XMLParserTests {
    @Test func namespacesResolveByURINotPrefix() throws {
        let root = try parse(
            #"<?xml version="1.0" encoding="UTF-8"?><e:Envelope xmlns:e="urn:env" xmlns="urn:d"><e:Body><Add a="1"/></e:Body></e:Envelope>"#)
        #expect(root.name == XName("Envelope", namespace: "urn:env"))
        let add = try #require(root.element(XName("Body", namespace: "urn:env"))?.elements.first)
        #expect(add.name == XName("Add", namespace: "urn:d"))
        // The default namespace does not apply to attributes.
        #expect(add.attribute(XName("a")) == "1")
        #expect(root.declarations.count == 2)
    }

    @Test func textReferencesCDATAAndLineEnds() throws {
        let root = try parse("<t>a &lt;&gt;&amp;&apos;&quot; &#65;&#x42; <![CDATA[<raw>&amp;]]>\r\nz</t>")
        #expect(root.text == "a <>&'\" AB <raw>&amp;\nz")
    }

    @Test func attributeValuesAreNormalized() throws {
        let root = try parse("<t v='a\tb\nc&#10;d'/>")
        #expect(root.attribute(XName("v")) == "a b c\nd")
    }

    @Test func layoutWhitespaceBetweenElementsIsDropped() throws {
        let root = try parse("<a>\n  <b> x </b>\n</a>")
        #expect(root.children.count == 1)
        #expect(root.elements.first?.text == " x ")
    }

    @Test(arguments: [
        "<a>", "<a></b>", "<a b=1/>", "<a b='1' b='2'/>", "<p:a/>", "<a>&#0;</a>", "<a>&#xD800;</a>", "<a>& b</a>",
        "<a/><b/>", "text", "<a>]]></a>", "<a\u{1}/>", "<a>\u{1}</a>", "<a xmlns:p=''/>", "<?xml version='1.0' encoding='ISO-8859-1'?><a/>",
        "<a x:b='1' xmlns:x='u' y:b='2' xmlns:y='u'/>",
    ])
    func notWellFormed(_ text: String) {
        #expect(failure(text)?.kind == .notWellFormed, "\(text)")
    }

    @Test func doctypeIsRefusedWhereverItIs() {
        #expect(failure("<!DOCTYPE a><a/>")?.kind == .restricted)
        #expect(failure(#"<?xml version="1.0"?><!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>"#)?.kind == .restricted)
        #expect(failure("<a><!DOCTYPE a></a>")?.kind == .restricted)
    }

    @Test func billionLaughsIsRefusedBeforeAnyExpansion() {
        var bomb = #"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">"#
        for level in 1...9 { bomb += "<!ENTITY lol\(level) \"" + String(repeating: "&lol\(level == 1 ? "" : String(level - 1));", count: 10) + "\">" }
        bomb += "]><lolz>&lol9;</lolz>"
        let error = failure(bomb)
        #expect(error?.kind == .restricted)
        #expect(error?.description.contains("document type") == true)
    }

    @Test func externalEntityIsNeverRead() {
        let error = failure(#"<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>"#)
        #expect(error?.kind == .restricted)
        // Without a DOCTYPE the reference is to an entity XML does not predefine.
        let undeclared = failure("<x>&e;</x>")
        #expect(undeclared?.kind == .restricted)
        #expect(undeclared?.description.contains("five predefined") == true)
    }

    @Test func processingInstructionsAndCommentsByPolicy() throws {
        #expect(failure("<a><?php x?></a>")?.kind == .restricted)
        #expect(failure("<?pi?><a/>")?.kind == .restricted)
        #expect(try parse("<!-- c --><a><!-- c -->x</a>").text == "x")
        let noComments = XMLLimits(maxDepth: 8, maxAttributesPerElement: 8, maxNamespaceDeclarations: 8, allowsComments: false)
        #expect(failure("<a><!-- c --></a>", noComments)?.kind == .restricted)
        #expect(failure("<a><!-- a -- b --></a>")?.kind == .notWellFormed)
    }

    @Test func tenThousandLevelsStopAtTheDepthLimit() {
        let deep = String(repeating: "<a>", count: 10_000) + String(repeating: "</a>", count: 10_000)
        let error = failure(deep)
        #expect(error?.kind == .limit)
        // Refused at the 33rd open element, long before the end of the input.
        #expect((error?.offset ?? .max) <= 33 * 3)
        #expect(throws: Never.self) { try parse(String(repeating: "<a>", count: 32) + String(repeating: "</a>", count: 32)) }
    }

    @Test func attributeAndNamespaceLimits() {
        let attributes = "<a " + (0..<33).map { "a\($0)='1'" }.joined(separator: " ") + "/>"
        #expect(failure(attributes)?.kind == .limit)
        let namespaces = (0..<65).map { "<e xmlns:p\($0)='u\($0)'>" }.joined() + String(repeating: "</e>", count: 65)
        let wide = XMLLimits(maxDepth: 100, maxAttributesPerElement: 32, maxNamespaceDeclarations: 64, allowsComments: true)
        #expect(failure(namespaces, wide)?.kind == .limit)
    }

    @Test func writerRoundTripsNamesTextAndAttributes() throws {
        let text = "<>&\"' \r\n\t end ]]>"
        var element = XElement(
            XName("Envelope", namespace: "urn:env"), declarations: [XNamespaceDeclaration(prefix: "env", uri: "urn:env")])
        element.append(XElement(XName("x", namespace: "urn:other"), attributes: [XAttribute(XName("v", namespace: "urn:attr"), text)], text: text))
        element.append(XElement(XName("plain"), text: "p"))
        let written = XMLWriter.string(element)
        #expect(written.hasPrefix("<env:Envelope xmlns:env=\"urn:env\">"))
        let back = try parse(written)
        #expect(back.name == element.name)
        let x = try #require(back.element(XName("x", namespace: "urn:other")))
        #expect(x.text == text)
        #expect(x.attribute(XName("v", namespace: "urn:attr")) == text)
        #expect(back.element(XName("plain"))?.text == "p")
    }
}
