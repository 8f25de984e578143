/// Writes an ``XElement`` as UTF-8 XML, declaring namespaces where they are needed.
///
/// An element's own ``XElement/declarations`` are written where they stand and their
/// prefixes are used for names in those namespaces; a name whose namespace is not in
/// scope gets a declaration on the element that needs it (the default namespace for an
/// element, a generated `nsN` prefix for an attribute). Text and attribute values are
/// escaped so that a parser reads back exactly what was written.
package enum XMLWriter {
    /// Appends `element` to `out`, without an XML declaration.
    package static func write(_ element: XElement, to out: inout [UInt8]) {
        var scope = [XNamespaceDeclaration(prefix: "xml", uri: XMLParser.xmlNamespace)]
        write(element, scope: &scope, to: &out)
    }

    /// `element` as a string, without an XML declaration.
    package static func string(_ element: XElement) -> String {
        var out: [UInt8] = []
        write(element, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static func lookup(_ prefix: String, in scope: [XNamespaceDeclaration]) -> String? {
        scope.last { $0.prefix == prefix }?.uri
    }

    /// A prefix in scope that is bound to `uri` and not shadowed.
    private static func prefix(for uri: String, in scope: [XNamespaceDeclaration], allowDefault: Bool) -> String? {
        for declaration in scope.reversed() where declaration.uri == uri && (allowDefault || !declaration.prefix.isEmpty) {
            if lookup(declaration.prefix, in: scope) == uri { return declaration.prefix }
        }
        return nil
    }

    private static func write(_ element: XElement, scope: inout [XNamespaceDeclaration], to out: inout [UInt8]) {
        let mark = scope.count
        defer { scope.removeSubrange(mark...) }
        var declarations = element.declarations
        scope.append(contentsOf: declarations)

        let elementPrefix: String
        if let namespace = element.name.namespace {
            if let prefix = prefix(for: namespace, in: scope, allowDefault: true) {
                elementPrefix = prefix
            } else {
                let declaration = XNamespaceDeclaration(prefix: "", uri: namespace)
                declarations.append(declaration)
                scope.append(declaration)
                elementPrefix = ""
            }
        } else {
            if let inherited = lookup("", in: scope), !inherited.isEmpty {
                let declaration = XNamespaceDeclaration(prefix: "", uri: "")
                declarations.append(declaration)
                scope.append(declaration)
            }
            elementPrefix = ""
        }

        var attributePrefixes: [String] = []
        for attribute in element.attributes {
            guard let namespace = attribute.name.namespace else {
                attributePrefixes.append("")
                continue
            }
            if let prefix = prefix(for: namespace, in: scope, allowDefault: false) {
                attributePrefixes.append(prefix)
                continue
            }
            var counter = 0
            while lookup("ns\(counter)", in: scope) != nil { counter += 1 }
            let declaration = XNamespaceDeclaration(prefix: "ns\(counter)", uri: namespace)
            declarations.append(declaration)
            scope.append(declaration)
            attributePrefixes.append(declaration.prefix)
        }

        out.append(UInt8(ascii: "<"))
        appendName(element.name.local, prefix: elementPrefix, to: &out)
        for declaration in declarations {
            out.append(contentsOf: declaration.prefix.isEmpty ? " xmlns=\"".utf8 : " xmlns:\(declaration.prefix)=\"".utf8)
            escape(declaration.uri, inAttribute: true, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        for (attribute, prefix) in zip(element.attributes, attributePrefixes) {
            out.append(UInt8(ascii: " "))
            appendName(attribute.name.local, prefix: prefix, to: &out)
            out.append(contentsOf: "=\"".utf8)
            escape(attribute.value, inAttribute: true, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        guard !element.children.isEmpty else {
            out.append(contentsOf: "/>".utf8)
            return
        }
        out.append(UInt8(ascii: ">"))
        for child in element.children {
            switch child {
            case .text(let text): escape(text, inAttribute: false, to: &out)
            case .element(let child): write(child, scope: &scope, to: &out)
            }
        }
        out.append(contentsOf: "</".utf8)
        appendName(element.name.local, prefix: elementPrefix, to: &out)
        out.append(UInt8(ascii: ">"))
    }

    private static func appendName(_ local: String, prefix: String, to out: inout [UInt8]) {
        if !prefix.isEmpty {
            out.append(contentsOf: prefix.utf8)
            out.append(UInt8(ascii: ":"))
        }
        out.append(contentsOf: local.utf8)
    }

    private static func escape(_ text: String, inAttribute: Bool, to out: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "&"): out.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): out.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): out.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "\"") where inAttribute: out.append(contentsOf: "&quot;".utf8)
            case 0x0D: out.append(contentsOf: "&#13;".utf8)
            case 0x09 where inAttribute: out.append(contentsOf: "&#9;".utf8)
            case 0x0A where inAttribute: out.append(contentsOf: "&#10;".utf8)
            default: out.append(byte)
            }
        }
    }
}
