/// An `Encoder` that writes a typed value as an ``XElement``, document/literal style:
/// each stored property becomes a child element named after its key, in the namespace of
/// the root (XML Schema's `elementFormDefault="qualified"`); scalars become the text of
/// their element; an array becomes one sibling element per value, with the key's name
/// (`maxOccurs="unbounded"`); `nil` optionals are left out (`minOccurs="0"`).
///
/// ```swift
/// struct Add: Codable { var a: Int; var b: Int }
/// // <Add xmlns="urn:example:calc"><a>2</a><b>3</b></Add>
/// let element = try XElementEncoder.encode(Add(a: 2, b: 3), as: XName("Add", namespace: "urn:example:calc"))
/// ```
///
/// An array of arrays is written flat, as XML Schema would describe it; ``XElementDecoder``
/// cannot read it back as nested arrays.
package enum XElementEncoder {
    package static func encode<Value: Encodable>(_ value: Value, as name: XName) throws -> XElement {
        let root = Node(name)
        if let scalar = value as? any XMLScalar {
            root.text = scalar.xmlText
        } else {
            try value.encode(to: FieldEncoder(target: .root(root), namespace: name.namespace, codingPath: []))
        }
        return root.element()
    }

    /// An element being written: containers are values that write into it after they are handed out.
    final class Node {
        enum Child {
            case done(XElement)
            case node(Node)
        }
        let name: XName
        var text: String?
        var children: [Child] = []

        init(_ name: XName) { self.name = name }

        func element() -> XElement {
            var element = XElement(name)
            if let text { element.children.append(.text(text)) }
            for child in children {
                switch child {
                case .done(let done): element.append(done)
                case .node(let node): element.append(node.element())
                }
            }
            return element
        }
    }

    static let instanceNamespace = "http://www.w3.org/2001/XMLSchema-instance"
}

/// Encodes one value: the root, or a field named by its key inside `parent`.
private final class FieldEncoder: Encoder {
    enum Target {
        case root(XElementEncoder.Node)
        case field(parent: XElementEncoder.Node, name: XName)
    }

    let target: Target
    let namespace: String?
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    private var keyedNode: XElementEncoder.Node?

    init(target: Target, namespace: String?, codingPath: [any CodingKey]) {
        self.target = target
        self.namespace = namespace
        self.codingPath = codingPath
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let node: XElementEncoder.Node
        if let keyedNode {
            node = keyedNode
        } else {
            switch target {
            case .root(let root): node = root
            case .field(let parent, let name):
                node = XElementEncoder.Node(name)
                parent.children.append(.node(node))
            }
            keyedNode = node
        }
        return KeyedEncodingContainer(KeyedContainer(node: node, namespace: namespace, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        switch target {
        case .root(let root): UnkeyedContainer(parent: root, name: XName("item", namespace: namespace), namespace: namespace, codingPath: codingPath)
        case .field(let parent, let name): UnkeyedContainer(parent: parent, name: name, namespace: namespace, codingPath: codingPath)
        }
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleValueContainer(encoder: self) }

    /// Writes `text` as this value's content.
    func write(text: String?) {
        switch target {
        case .root(let root): root.text = text
        case .field(let parent, let name):
            if let text {
                parent.children.append(.done(XElement(name, text: text)))
            } else {
                let nilAttribute = XAttribute(XName("nil", namespace: XElementEncoder.instanceNamespace), "true")
                parent.children.append(.done(XElement(name, attributes: [nilAttribute])))
            }
        }
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: XElementEncoder.Node
    let namespace: String?
    let codingPath: [any CodingKey]

    private func name(_ key: Key) -> XName { XName(key.stringValue, namespace: namespace) }

    mutating func encodeNil(forKey key: Key) throws {
        let nilAttribute = XAttribute(XName("nil", namespace: XElementEncoder.instanceNamespace), "true")
        node.children.append(.done(XElement(name(key), attributes: [nilAttribute])))
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        if let scalar = value as? any XMLScalar {
            node.children.append(.done(XElement(name(key), text: scalar.xmlText)))
        } else {
            let encoder = FieldEncoder(target: .field(parent: node, name: name(key)), namespace: namespace, codingPath: codingPath + [key])
            try value.encode(to: encoder)
        }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        FieldEncoder(target: .field(parent: node, name: name(key)), namespace: namespace, codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        UnkeyedContainer(parent: node, name: name(key), namespace: namespace, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder {
        FieldEncoder(target: .field(parent: node, name: XName("super", namespace: namespace)), namespace: namespace, codingPath: codingPath)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        FieldEncoder(target: .field(parent: node, name: name(key)), namespace: namespace, codingPath: codingPath + [key])
    }
}

/// The values of an array: siblings of one name in `parent`.
private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let parent: XElementEncoder.Node
    let name: XName
    let namespace: String?
    let codingPath: [any CodingKey]
    private(set) var count = 0

    init(parent: XElementEncoder.Node, name: XName, namespace: String?, codingPath: [any CodingKey]) {
        self.parent = parent
        self.name = name
        self.namespace = namespace
        self.codingPath = codingPath
    }

    private mutating func nextEncoder() -> FieldEncoder {
        defer { count += 1 }
        return FieldEncoder(target: .field(parent: parent, name: name), namespace: namespace, codingPath: codingPath)
    }

    mutating func encodeNil() throws { nextEncoder().write(text: nil) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let encoder = nextEncoder()
        if let scalar = value as? any XMLScalar { encoder.write(text: scalar.xmlText) } else { try value.encode(to: encoder) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        nextEncoder().container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { nextEncoder().unkeyedContainer() }

    mutating func superEncoder() -> any Encoder { nextEncoder() }
}

private struct SingleValueContainer: SingleValueEncodingContainer {
    let encoder: FieldEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws { encoder.write(text: nil) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        if let scalar = value as? any XMLScalar { encoder.write(text: scalar.xmlText) } else { try value.encode(to: encoder) }
    }
}
