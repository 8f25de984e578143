/// Writes the WSDL 1.1 document that describes a set of operations: XML Schema for their
/// elements (from their Codable shapes), messages, one port type, a SOAP 1.2 and a SOAP 1.1
/// binding, and a service with a port for each at the endpoint's address.
///
/// Document/literal wrapped, as WS-I Basic Profile has it: each message has one part, the
/// operation's element; elements are qualified; every operation states its `soapAction`
/// (`namespace/Operation`), which is also the WS-Addressing action its requests carry.
enum WSDLWriter {
    static let wsdl = "http://schemas.xmlsoap.org/wsdl/"
    static let soap11Binding = "http://schemas.xmlsoap.org/wsdl/soap/"
    static let soap12Binding = "http://schemas.xmlsoap.org/wsdl/soap12/"
    static let xsd = "http://www.w3.org/2001/XMLSchema"

    static func document(_ operations: SOAPOperations, service: String, location: String, transport: String) -> XElement {
        let ns = operations.namespace
        // `CalculatorService` has the port type `Calculator` and ports `CalculatorSoap12`, `CalculatorSoap11`.
        let base = service.hasSuffix("Service") && service != "Service" ? String(service.dropLast(7)) : service
        func w(_ local: String) -> XName { XName(local, namespace: wsdl) }
        func x(_ local: String) -> XName { XName(local, namespace: xsd) }
        func attribute(_ name: String, _ value: String) -> XAttribute { XAttribute(XName(name), value) }

        var schema = XElement(x("schema"), attributes: [attribute("targetNamespace", ns), attribute("elementFormDefault", "qualified")])
        var messages: [XElement] = []
        var portType = XElement(w("portType"), attributes: [attribute("name", base)])
        for operation in operations.all {
            schema.append(element(operation.name, type: operation.input))
            messages.append(message(operation.name + "Input", element: operation.name))
            var portOperation = XElement(w("operation"), attributes: [attribute("name", operation.name)])
            portOperation.append(XElement(w("input"), attributes: [attribute("message", "tns:\(operation.name)Input")]))
            if let output = operation.output {
                schema.append(element(operation.name + "Response", type: output))
                messages.append(message(operation.name + "Output", element: operation.name + "Response"))
                portOperation.append(XElement(w("output"), attributes: [attribute("message", "tns:\(operation.name)Output")]))
            }
            portType.append(portOperation)
        }

        var definitions = XElement(
            w("definitions"), attributes: [attribute("name", service), attribute("targetNamespace", ns)],
            declarations: [
                XNamespaceDeclaration(prefix: "wsdl", uri: wsdl), XNamespaceDeclaration(prefix: "soap", uri: soap11Binding),
                XNamespaceDeclaration(prefix: "soap12", uri: soap12Binding), XNamespaceDeclaration(prefix: "xsd", uri: xsd),
                XNamespaceDeclaration(prefix: "tns", uri: ns),
            ])
        definitions.append(XElement(w("types"), children: [.element(schema)]))
        for message in messages { definitions.append(message) }
        definitions.append(portType)
        var wsdlService = XElement(w("service"), attributes: [attribute("name", service)])
        for (suffix, bindingNamespace) in [("Soap12", soap12Binding), ("Soap11", soap11Binding)] {
            definitions.append(binding(operations, name: base + suffix, portType: base, namespace: bindingNamespace, transport: transport))
            var port = XElement(w("port"), attributes: [attribute("name", base + suffix), attribute("binding", "tns:\(base + suffix)")])
            port.append(XElement(XName("address", namespace: bindingNamespace), attributes: [attribute("location", location)]))
            wsdlService.append(port)
        }
        definitions.append(wsdlService)
        return definitions
    }

    private static func message(_ name: String, element: String) -> XElement {
        var message = XElement(XName("message", namespace: wsdl), attributes: [XAttribute(XName("name"), name)])
        message.append(
            XElement(
                XName("part", namespace: wsdl), attributes: [XAttribute(XName("name"), "parameters"), XAttribute(XName("element"), "tns:\(element)")]
            ))
        return message
    }

    private static func binding(_ operations: SOAPOperations, name: String, portType: String, namespace: String, transport: String) -> XElement {
        func b(_ local: String) -> XName { XName(local, namespace: namespace) }
        var binding = XElement(
            XName("binding", namespace: wsdl), attributes: [XAttribute(XName("name"), name), XAttribute(XName("type"), "tns:\(portType)")])
        binding.append(XElement(b("binding"), attributes: [XAttribute(XName("style"), "document"), XAttribute(XName("transport"), transport)]))
        for operation in operations.all {
            var bound = XElement(XName("operation", namespace: wsdl), attributes: [XAttribute(XName("name"), operation.name)])
            let action = XAttribute(XName("soapAction"), "\(operations.namespace)/\(operation.name)")
            bound.append(XElement(b("operation"), attributes: [action, XAttribute(XName("style"), "document")]))
            let literal = XElement(b("body"), attributes: [XAttribute(XName("use"), "literal")])
            bound.append(XElement(XName("input", namespace: wsdl), children: [.element(literal)]))
            if operation.output != nil { bound.append(XElement(XName("output", namespace: wsdl), children: [.element(literal)])) }
            binding.append(bound)
        }
        return binding
    }

    /// `<xsd:element name=...>` of `type`: a built-in by reference, a sequence inline.
    private static func element(_ name: String, type: XMLSchemaType, optional: Bool = false, repeated: Bool = false) -> XElement {
        var attributes = [XAttribute(XName("name"), name)]
        if optional { attributes.append(XAttribute(XName("minOccurs"), "0")) }
        if repeated { attributes.append(XAttribute(XName("maxOccurs"), "unbounded")) }
        switch type {
        case .builtIn(let builtIn):
            attributes.append(XAttribute(XName("type"), "xsd:\(builtIn)"))
            return XElement(XName("element", namespace: xsd), attributes: attributes)
        case .any:
            attributes.append(XAttribute(XName("type"), "xsd:anyType"))
            return XElement(XName("element", namespace: xsd), attributes: attributes)
        case .sequence(let fields):
            var sequence = XElement(XName("sequence", namespace: xsd))
            for field in fields { sequence.append(element(field.name, type: field.type, optional: field.isOptional, repeated: field.isRepeated)) }
            let complexType = XElement(XName("complexType", namespace: xsd), children: [.element(sequence)])
            return XElement(XName("element", namespace: xsd), attributes: attributes, children: [.element(complexType)])
        }
    }
}

extension SOAPOperations {
    /// The transport URI [MS-SWSB] §2.1 gives SOAP over WebSocket in a WSDL binding.
    public static let webSocketTransport = "http://schemas.microsoft.com/soap/websocket"

    /// The WSDL 1.1 document describing these operations, for a service named `service`
    /// reachable at `location` (a `ws://` or `wss://` URL): the port type is the service's
    /// name without a trailing `Service`, say `Calculator`, with a SOAP 1.2 port
    /// (`CalculatorSoap12`) and a SOAP 1.1 port (`CalculatorSoap11`).
    ///
    /// - Parameters:
    ///   - service: the `wsdl:service` name, say `CalculatorService`.
    ///   - location: the `ws://` or `wss://` URL of the service's ports.
    ///   - transport: the bindings' `transport` URI; [MS-SWSB]'s by default.
    public func wsdl(service: String, location: String, transport: String = SOAPOperations.webSocketTransport) -> String {
        let document = WSDLWriter.document(self, service: service, location: location, transport: transport)
        return #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n" + XMLWriter.string(document)
    }
}
