/// An XML element as a value: its name, attributes, namespace declarations and children.
///
/// What the parser makes and the writer writes. A plain value with no parent
/// pointer: a subtree can be taken out, changed and sent on its own.
///
/// ```swift
/// let add = XElement(XName("Add", namespace: "urn:example:calc"), children: [
///     .element(XElement(XName("a", namespace: "urn:example:calc"), text: "2")),
/// ])
/// ```
public struct XElement: Sendable, Hashable {
    public var name: XName
    public var attributes: [XAttribute]
    /// The namespace declarations written on this element (`xmlns`, `xmlns:p`).
    public var declarations: [XNamespaceDeclaration]
    public var children: [XNode]

    public init(
        _ name: XName, attributes: [XAttribute] = [], declarations: [XNamespaceDeclaration] = [], children: [XNode] = []
    ) {
        self.name = name
        self.attributes = attributes
        self.declarations = declarations
        self.children = children
    }

    /// An element whose only child is `text`.
    public init(_ name: XName, attributes: [XAttribute] = [], text: String) {
        self.init(name, attributes: attributes, children: [.text(text)])
    }

    /// The child elements, in document order.
    public var elements: [XElement] {
        children.compactMap { if case .element(let element) = $0 { element } else { nil } }
    }

    /// The first child element named `name`.
    public func element(_ name: XName) -> XElement? {
        for case .element(let element) in children where element.name == name { return element }
        return nil
    }

    /// The character data of this element's own text children, joined; child elements' text is not included.
    public var text: String {
        var result = ""
        for case .text(let piece) in children { result += piece }
        return result
    }

    /// The value of the attribute named `name`.
    public func attribute(_ name: XName) -> String? { attributes.first { $0.name == name }?.value }

    /// Appends a child element.
    public mutating func append(_ element: XElement) { children.append(.element(element)) }
}
