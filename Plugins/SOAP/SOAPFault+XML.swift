extension SOAPFault {
    /// The `Fault` element of `version` (SOAP 1.2 Part 1 §5.4; SOAP 1.1 §4.4).
    ///
    /// Codes are QNames in text, so the prefixes they use are declared on the element that
    /// holds them.
    func element(_ version: SOAPVersion) -> XElement {
        let envelopePrefix = XNamespaceDeclaration(prefix: version == .soap12 ? "env" : "soap", uri: version.envelopeNamespace)
        var fault = XElement(version.name("Fault"), declarations: [envelopePrefix])
        switch version {
        case .soap12:
            var code = XElement(version.name("Code"))
            code.append(XElement(version.name("Value"), text: "env:\(self.code.rawValue)"))
            // Subcodes nest, outermost first: build from the innermost out.
            var inner: XElement?
            for (index, subcode) in subcodes.enumerated().reversed() {
                let prefix = "sc\(index)"
                var element = XElement(version.name("Subcode"))
                element.append(
                    XElement(
                        version.name("Value"), declarations: subcode.namespace.map { [XNamespaceDeclaration(prefix: prefix, uri: $0)] } ?? [],
                        children: [.text(subcode.namespace == nil ? subcode.local : "\(prefix):\(subcode.local)")]))
                if let inner { element.append(inner) }
                inner = element
            }
            if let inner { code.append(inner) }
            fault.append(code)
            let lang = XAttribute(XName("lang", namespace: "http://www.w3.org/XML/1998/namespace"), "en")
            fault.append(XElement(version.name("Reason"), children: [.element(XElement(version.name("Text"), attributes: [lang], text: reason))]))
            if !detail.isEmpty { fault.append(XElement(version.name("Detail"), children: detail.map(XNode.element))) }
        case .soap11:
            fault.append(XElement(XName("faultcode"), text: "soap:\(code.soap11Name)"))
            fault.append(XElement(XName("faultstring"), text: reason))
            if !detail.isEmpty { fault.append(XElement(XName("detail"), children: detail.map(XNode.element))) }
        }
        return fault
    }

    /// Reads a `Fault` element of `version`; `scope` holds the declarations in scope above it.
    init?(_ element: XElement, version: SOAPVersion, scope: [XNamespaceDeclaration]) {
        guard element.name == version.name("Fault") else { return nil }
        let scope = scope + element.declarations
        switch version {
        case .soap12:
            guard let codeElement = element.element(version.name("Code")), let value = codeElement.element(version.name("Value")),
                let codeName = XNamespaceDeclaration.resolve(value.text, in: scope + codeElement.declarations + value.declarations),
                codeName.namespace == version.envelopeNamespace, let code = Code(rawValue: codeName.local)
            else { return nil }
            let reason = element.element(version.name("Reason"))?.elements.first { $0.name == version.name("Text") }?.text ?? ""
            self.init(code, reason: reason, detail: element.element(version.name("Detail"))?.elements ?? [])
            var level = codeElement
            var levelScope = scope + codeElement.declarations
            while let subcode = level.element(version.name("Subcode")), let subValue = subcode.element(version.name("Value")) {
                levelScope += subcode.declarations
                if let name = XNamespaceDeclaration.resolve(subValue.text, in: levelScope + subValue.declarations) { subcodes.append(name) }
                level = subcode
            }
        case .soap11:
            guard let codeText = element.element(XName("faultcode"))?.text,
                let codeName = XNamespaceDeclaration.resolve(codeText, in: scope + (element.element(XName("faultcode"))?.declarations ?? [])),
                let code = Code(soap11Name: codeName.local.split(separator: ".").first.map(String.init) ?? codeName.local)
            else { return nil }
            self.init(code, reason: element.element(XName("faultstring"))?.text ?? "", detail: element.element(XName("detail"))?.elements ?? [])
        }
    }

    /// The header blocks a fault carries: `Upgrade` with VersionMismatch (1.2 §5.4.7),
    /// `NotUnderstood` per block with MustUnderstand (1.2 §5.4.8).
    func headerBlocks(_ version: SOAPVersion, supported: SOAPVersion) -> [XElement] {
        let v12 = SOAPVersion.soap12
        switch code {
        case .versionMismatch:
            let supportedEnvelope = XElement(
                v12.name("SupportedEnvelope"), attributes: [XAttribute(XName("qname"), "up:Envelope")],
                declarations: [XNamespaceDeclaration(prefix: "up", uri: supported.envelopeNamespace)])
            return [XElement(v12.name("Upgrade"), children: [.element(supportedEnvelope)])]
        case .mustUnderstand where version == .soap12:
            return notUnderstood.enumerated().map { index, name in
                let qname = name.namespace == nil ? name.local : "nu\(index):\(name.local)"
                return XElement(
                    v12.name("NotUnderstood"), attributes: [XAttribute(XName("qname"), qname)],
                    declarations: name.namespace.map { [XNamespaceDeclaration(prefix: "nu\(index)", uri: $0)] } ?? [])
            }
        default:
            return []
        }
    }
}
