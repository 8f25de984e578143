/// A strict, non-validating XML 1.0 parser with namespaces, for one document held in memory:
/// one SOAP envelope or one XMPP stanza (each a whole WebSocket message).
///
/// What it refuses on principle, whatever the protocol (``XMLParseError/Kind/restricted``):
/// - a document type declaration (`<!DOCTYPE`): with it go internal entities (the
///   "billion laughs" bomb), external entities (reading files or URLs) and default
///   attributes, none of which SOAP 1.2 (Part 1 §5) or XMPP (RFC 6120 §11.1) allow;
/// - any entity reference but the five predefined ones (`&lt;` `&gt;` `&amp;` `&apos;` `&quot;`);
///   character references are read;
/// - processing instructions other than the XML declaration, and comments when
///   ``XMLLimits/allowsComments`` is off.
///
/// It is a loop over the bytes with an explicit stack of open elements, not recursion, so
/// depth costs heap bounded by ``XMLLimits/maxDepth``, never stack. Input is UTF-8 (a
/// declaration naming another encoding is refused); the transport validated it for text
/// messages.
package struct XMLParser {
    private struct OpenElement {
        var qualifiedName: String
        var element: XElement
        var bindingsMark: Int
    }

    private let bytes: UnsafeRawBufferPointer
    private let limits: XMLLimits
    private var index = 0
    private var open: [OpenElement] = []
    private var bindings: [XNamespaceDeclaration] = [XNamespaceDeclaration(prefix: "xml", uri: XMLParser.xmlNamespace)]
    private var declarationCount = 0
    private var elementCount = 0
    private var text: [UInt8] = []

    static let xmlNamespace = "http://www.w3.org/XML/1998/namespace"

    /// Parses one document and returns its root element.
    package static func parse(_ bytes: UnsafeRawBufferPointer, limits: XMLLimits) throws(XMLParseError) -> XElement {
        var parser = XMLParser(bytes: bytes, limits: limits)
        return try parser.parseDocument()
    }

    /// Parses one document held in `bytes`.
    package static func parse(_ bytes: some Collection<UInt8>, limits: XMLLimits) throws(XMLParseError) -> XElement {
        let result: Result<XElement, XMLParseError> = Array(bytes).withUnsafeBytes { raw in
            Result { () throws(XMLParseError) in try parse(raw, limits: limits) }
        }
        return try result.get()
    }

    private init(bytes: UnsafeRawBufferPointer, limits: XMLLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    private func fail(_ kind: XMLParseError.Kind, _ reason: String) -> XMLParseError {
        XMLParseError(kind: kind, offset: index, reason: reason)
    }

    // MARK: Document

    private mutating func parseDocument() throws(XMLParseError) -> XElement {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
        if hasPrefix("<?xml"), index + 5 < bytes.count, Self.isWhitespace(bytes[index + 5]) { try parseDeclaration() }
        try skipMisc()
        guard hasPrefix("<") else { throw fail(.notWellFormed, "no root element") }
        var root: XElement?
        repeat {
            if let finished = try parseMarkupOrText() { root = finished }
        } while root == nil
        try skipMisc()
        guard index == bytes.count else { throw fail(.notWellFormed, "content after the root element") }
        return root!
    }

    /// `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`: only UTF-8 is accepted.
    private mutating func parseDeclaration() throws(XMLParseError) {
        index += 5
        guard let end = find("?>") else { throw fail(.notWellFormed, "unterminated XML declaration") }
        let content = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[index..<end]), as: UTF8.self)
        if let encoding = Self.pseudoAttribute("encoding", in: content) {
            let lowered = encoding.lowercased()
            guard lowered == "utf-8" || lowered == "utf8" else {
                throw fail(.notWellFormed, "encoding '\(encoding)' is not supported (UTF-8 only)")
            }
        }
        guard Self.pseudoAttribute("version", in: content)?.hasPrefix("1.") == true else {
            throw fail(.notWellFormed, "XML declaration without version 1.x")
        }
        index = end + 2
    }

    /// The value of `name="value"` (or single quotes) in an XML declaration's content.
    private static func pseudoAttribute(_ name: String, in content: String) -> String? {
        var rest = Substring(content)
        while let start = rest.firstIndex(where: { $0 != " " && $0 != "\t" && $0 != "\r" && $0 != "\n" }) {
            rest = rest[start...]
            let key = rest.prefix { $0 != "=" && $0 != " " }
            rest = rest[key.endIndex...].drop { $0 == " " || $0 == "=" }
            guard let quote = rest.first, quote == "\"" || quote == "'" else { return nil }
            let value = rest.dropFirst().prefix { $0 != quote }
            if key == name { return String(value) }
            rest = rest.dropFirst(value.count + 2)
        }
        return nil
    }

    /// Whitespace and comments before or after the root; a DOCTYPE or a PI is refused.
    private mutating func skipMisc() throws(XMLParseError) {
        while true {
            skipWhitespace()
            if hasPrefix("<!--") {
                try skipComment()
            } else if hasPrefix("<!") {
                throw fail(.restricted, "a document type declaration is not allowed")
            } else if hasPrefix("<?") {
                throw fail(.restricted, "processing instructions are not allowed")
            } else {
                return
            }
        }
    }

    // MARK: Content

    /// Reads one piece of content: text up to the next `<`, then the markup there.
    /// Returns the root element once its end tag is read.
    private mutating func parseMarkupOrText() throws(XMLParseError) -> XElement? {
        if !open.isEmpty { try readText() }
        guard index < bytes.count else { throw fail(.notWellFormed, "unexpected end of document inside <\(open.last?.qualifiedName ?? "")>") }
        if hasPrefix("</") {
            return try parseEndTag()
        } else if hasPrefix("<!--") {
            try skipComment()
        } else if hasPrefix("<![CDATA[") {
            try readCDATA()
        } else if hasPrefix("<!") {
            throw fail(.restricted, "a document type declaration is not allowed")
        } else if hasPrefix("<?") {
            throw fail(.restricted, "processing instructions are not allowed")
        } else {
            return try parseStartTag()
        }
        return nil
    }

    private mutating func readText() throws(XMLParseError) {
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "<"):
                return
            case UInt8(ascii: "&"):
                // `text` is a property: move it out while appending, so the inout does not alias `self`.
                var buffer = text
                text = []
                try readReference(appendingTo: &buffer)
                text = buffer
            case UInt8(ascii: "\r"):
                // Line ends are normalized to LF (XML 1.0 §2.11).
                text.append(UInt8(ascii: "\n"))
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "\n") { index += 1 }
            case UInt8(ascii: ">"):
                if text.count >= 2, text[text.count - 1] == UInt8(ascii: "]"), text[text.count - 2] == UInt8(ascii: "]") {
                    throw fail(.notWellFormed, "']]>' in character data")
                }
                text.append(byte)
                index += 1
            case 0x09, 0x0A, 0x20...:
                text.append(byte)
                index += 1
            default:
                throw fail(.notWellFormed, "control character \(byte) in character data")
            }
        }
    }

    private mutating func readCDATA() throws(XMLParseError) {
        index += 9
        guard let end = find("]]>") else { throw fail(.notWellFormed, "unterminated CDATA section") }
        for byte in bytes[index..<end] {
            guard byte >= 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D else {
                throw fail(.notWellFormed, "control character \(byte) in a CDATA section")
            }
            text.append(byte)
        }
        index = end + 3
    }

    private mutating func skipComment() throws(XMLParseError) {
        guard limits.allowsComments else { throw fail(.restricted, "comments are not allowed") }
        index += 4
        guard let end = find("--") else { throw fail(.notWellFormed, "unterminated comment") }
        guard end + 2 < bytes.count, bytes[end + 2] == UInt8(ascii: ">") else { throw fail(.notWellFormed, "'--' inside a comment") }
        index = end + 3
    }

    /// Moves the text read so far into the open element, as one text child.
    private mutating func flushText() {
        guard !text.isEmpty, !open.isEmpty else { return }
        open[open.count - 1].element.children.append(.text(String(decoding: text, as: UTF8.self)))
        text.removeAll(keepingCapacity: true)
    }

    // MARK: Tags

    private mutating func parseStartTag() throws(XMLParseError) -> XElement? {
        flushText()
        index += 1
        guard open.count < limits.maxDepth else { throw fail(.limit, "elements nest deeper than \(limits.maxDepth)") }
        elementCount += 1
        guard elementCount <= limits.maxElements else { throw fail(.limit, "more than \(limits.maxElements) elements") }
        let qualifiedName = try readName()
        var raw: [(name: String, value: String)] = []
        var selfClosing = false
        while true {
            let hadSpace = skipWhitespace()
            guard index < bytes.count else { throw fail(.notWellFormed, "unterminated start tag <\(qualifiedName)>") }
            if bytes[index] == UInt8(ascii: ">") {
                index += 1
                break
            }
            if hasPrefix("/>") {
                index += 2
                selfClosing = true
                break
            }
            guard hadSpace else { throw fail(.notWellFormed, "no space before an attribute in <\(qualifiedName)>") }
            let name = try readName()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else { throw fail(.notWellFormed, "attribute \(name) without a value") }
            index += 1
            skipWhitespace()
            let value = try readAttributeValue()
            guard raw.count < limits.maxAttributesPerElement else {
                throw fail(.limit, "more than \(limits.maxAttributesPerElement) attributes on <\(qualifiedName)>")
            }
            guard !raw.contains(where: { $0.name == name }) else { throw fail(.notWellFormed, "attribute \(name) repeated") }
            raw.append((name, value))
        }

        let mark = bindings.count
        var declarations: [XNamespaceDeclaration] = []
        for (name, value) in raw where name == "xmlns" || name.hasPrefix("xmlns:") {
            let prefix = name == "xmlns" ? "" : String(name.dropFirst(6))
            guard prefix.isEmpty || !value.isEmpty else { throw fail(.notWellFormed, "prefix \(prefix) bound to no namespace") }
            guard prefix != "xmlns", prefix != "xml" || value == Self.xmlNamespace else {
                throw fail(.notWellFormed, "prefix \(prefix) cannot be rebound")
            }
            declarationCount += 1
            guard declarationCount <= limits.maxNamespaceDeclarations else {
                throw fail(.limit, "more than \(limits.maxNamespaceDeclarations) namespace declarations")
            }
            declarations.append(XNamespaceDeclaration(prefix: prefix, uri: value))
        }
        bindings.append(contentsOf: declarations)

        var attributes: [XAttribute] = []
        for (name, value) in raw where name != "xmlns" && !name.hasPrefix("xmlns:") {
            let expanded = try resolve(name, isAttribute: true)
            guard !attributes.contains(where: { $0.name == expanded }) else { throw fail(.notWellFormed, "attribute \(expanded) repeated") }
            attributes.append(XAttribute(expanded, value))
        }
        let element = XElement(try resolve(qualifiedName, isAttribute: false), attributes: attributes, declarations: declarations)
        open.append(OpenElement(qualifiedName: qualifiedName, element: element, bindingsMark: mark))
        return selfClosing ? closeElement() : nil
    }

    private mutating func parseEndTag() throws(XMLParseError) -> XElement? {
        flushText()
        index += 2
        let name = try readName()
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: ">") else { throw fail(.notWellFormed, "unterminated end tag </\(name)>") }
        index += 1
        guard let current = open.last else { throw fail(.notWellFormed, "end tag </\(name)> with no element open") }
        guard current.qualifiedName == name else {
            throw fail(.notWellFormed, "end tag </\(name)> does not match <\(current.qualifiedName)>")
        }
        return closeElement()
    }

    /// Pops the innermost element into its parent; returns it when it is the root.
    private mutating func closeElement() -> XElement? {
        var finished = open.removeLast()
        bindings.removeSubrange(finished.bindingsMark...)
        // Whitespace between child elements is layout, not content.
        if finished.element.children.contains(where: { if case .element = $0 { true } else { false } }) {
            finished.element.children.removeAll { node in
                if case .text(let piece) = node { return piece.utf8.allSatisfy(Self.isWhitespace) }
                return false
            }
        }
        guard !open.isEmpty else { return finished.element }
        open[open.count - 1].element.children.append(.element(finished.element))
        return nil
    }

    private func resolve(_ qualifiedName: String, isAttribute: Bool) throws(XMLParseError) -> XName {
        let utf8 = qualifiedName.utf8
        guard let colon = utf8.firstIndex(of: UInt8(ascii: ":")) else {
            // The default namespace applies to elements, never to attributes (Namespaces in XML §6.2).
            guard !isAttribute, let uri = lookup("") else { return XName(qualifiedName) }
            return XName(qualifiedName, namespace: uri.isEmpty ? nil : uri)
        }
        let prefix = String(qualifiedName[..<colon])
        let local = String(qualifiedName[utf8.index(after: colon)...])
        guard !prefix.isEmpty, !local.isEmpty, !local.utf8.contains(UInt8(ascii: ":")) else {
            throw fail(.notWellFormed, "malformed name \(qualifiedName)")
        }
        guard let uri = lookup(prefix) else { throw fail(.notWellFormed, "prefix \(prefix) is not bound") }
        return XName(local, namespace: uri)
    }

    private func lookup(_ prefix: String) -> String? { bindings.last { $0.prefix == prefix }?.uri }

    // MARK: Lexical pieces

    private mutating func readName() throws(XMLParseError) -> String {
        let start = index
        guard index < bytes.count, Self.isNameStart(bytes[index]) else { throw fail(.notWellFormed, "expected a name") }
        index += 1
        while index < bytes.count, Self.isNameStart(bytes[index]) || Self.isNameByte(bytes[index]) { index += 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }

    private mutating func readAttributeValue() throws(XMLParseError) -> String {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") else {
            throw fail(.notWellFormed, "attribute value without quotes")
        }
        let quote = bytes[index]
        index += 1
        var value: [UInt8] = []
        while true {
            guard index < bytes.count else { throw fail(.notWellFormed, "unterminated attribute value") }
            let byte = bytes[index]
            switch byte {
            case quote:
                index += 1
                return String(decoding: value, as: UTF8.self)
            case UInt8(ascii: "<"):
                throw fail(.notWellFormed, "'<' in an attribute value")
            case UInt8(ascii: "&"):
                try readReference(appendingTo: &value)
            case 0x09, 0x0A:
                // Attribute-value normalization (XML 1.0 §3.3.3).
                value.append(UInt8(ascii: " "))
                index += 1
            case 0x0D:
                value.append(UInt8(ascii: " "))
                index += 1
                if index < bytes.count, bytes[index] == 0x0A { index += 1 }
            case 0x20...:
                value.append(byte)
                index += 1
            default:
                throw fail(.notWellFormed, "control character \(byte) in an attribute value")
            }
        }
    }

    /// `&name;` or `&#N;` / `&#xH;`, appended to `out` as UTF-8.
    private mutating func readReference(appendingTo out: inout [UInt8]) throws(XMLParseError) {
        let start = index
        index += 1
        var end = index
        while end < bytes.count, end - index < 16, bytes[end] != UInt8(ascii: ";") { end += 1 }
        guard end < bytes.count, bytes[end] == UInt8(ascii: ";"), end > index else {
            throw fail(.notWellFormed, "'&' that does not start a reference")
        }
        let body = UnsafeRawBufferPointer(rebasing: bytes[index..<end])
        index = end + 1
        if body[0] == UInt8(ascii: "#") {
            let isHex = body.count > 1 && body[1] == UInt8(ascii: "x")
            let digits = String(decoding: UnsafeRawBufferPointer(rebasing: body[(isHex ? 2 : 1)...]), as: UTF8.self)
            guard !digits.isEmpty, digits.utf8.allSatisfy({ isHex ? Self.isHexDigit($0) : Self.isDigit($0) }),
                let code = UInt32(digits, radix: isHex ? 16 : 10), Self.isXMLChar(code), let scalar = Unicode.Scalar(code)
            else {
                index = start
                throw fail(.notWellFormed, "character reference to a character XML does not allow")
            }
            out.append(contentsOf: String(Character(scalar)).utf8)
            return
        }
        switch String(decoding: body, as: UTF8.self) {
        case "lt": out.append(UInt8(ascii: "<"))
        case "gt": out.append(UInt8(ascii: ">"))
        case "amp": out.append(UInt8(ascii: "&"))
        case "apos": out.append(UInt8(ascii: "'"))
        case "quot": out.append(UInt8(ascii: "\""))
        case let name:
            index = start
            throw fail(.restricted, "entity '\(name)' is not one of the five predefined entities")
        }
    }

    @discardableResult
    private mutating func skipWhitespace() -> Bool {
        let start = index
        while index < bytes.count, Self.isWhitespace(bytes[index]) { index += 1 }
        return index > start
    }

    private func hasPrefix(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - index >= count else { return false }
        for offset in 0..<count where bytes[index + offset] != literal.utf8Start[offset] { return false }
        return true
    }

    /// The offset of the next occurrence of `literal` at or after the current index.
    private func find(_ literal: StaticString) -> Int? {
        let count = literal.utf8CodeUnitCount
        let first = literal.utf8Start[0]
        var position = index
        while position + count <= bytes.count {
            if bytes[position] == first, (1..<count).allSatisfy({ bytes[position + $0] == literal.utf8Start[$0] }) { return position }
            position += 1
        }
        return nil
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
    private static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }
    /// ASCII letters, `_`, `:` and every byte of a multi-byte UTF-8 sequence (non-ASCII name characters).
    private static func isNameStart(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":") || byte >= 0x80
    }
    private static func isNameByte(_ byte: UInt8) -> Bool { isDigit(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") }
    /// XML 1.0 §2.2 `Char`.
    private static func isXMLChar(_ code: UInt32) -> Bool {
        code == 0x9 || code == 0xA || code == 0xD || (0x20...0xD7FF).contains(code) || (0xE000...0xFFFD).contains(code)
            || (0x10000...0x10FFFF).contains(code)
    }
}
