/// A `Decoder` that reads a typed value from an ``XElement`` written document/literal style,
/// the reverse of ``XElementEncoder``: a property is the child element named after its key
/// (matched by local name, since a peer may qualify children or not), a scalar is its
/// element's text, an array is every child of the key's name, and an absent child or one
/// with `xsi:nil="true"` is `nil`.
///
/// A property that is not an optional and has no element is `DecodingError.keyNotFound`;
/// text that is not of the property's type is `DecodingError.dataCorrupted`. Children the
/// type does not name are ignored, so a peer may add elements.
package enum XElementDecoder {
    package static func decode<Value: Decodable>(_ type: Value.Type, from element: XElement) throws -> Value {
        try FieldDecoder(elements: [element], isRoot: true, codingPath: []).decodeValue(type)
    }

    static func isNil(_ element: XElement) -> Bool {
        element.attribute(XName("nil", namespace: XElementEncoder.instanceNamespace)).map { Bool(xmlText: $0) == true } ?? false
    }
}

/// Decodes one value from the elements that stand for it: one for a scalar or a
/// structure, any number for an array.
private struct FieldDecoder: Decoder {
    let elements: [XElement]
    let isRoot: Bool
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if let scalar = type as? any XMLScalar.Type { return try decodeScalar(scalar) as! T }
        return try T(from: self)
    }

    func decodeScalar<T: XMLScalar>(_ type: T.Type) throws -> T {
        guard let element = elements.first, !XElementDecoder.isNil(element) else {
            throw DecodingError.valueNotFound(type, .init(codingPath: codingPath, debugDescription: "no element for a \(type) value"))
        }
        guard let value = T(xmlText: element.text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "'\(element.text)' is not a valid xsd:\(T.schemaType)"))
        }
        return value
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard let element = elements.first else {
            throw DecodingError.valueNotFound(
                KeyedDecodingContainer<Key>.self, .init(codingPath: codingPath, debugDescription: "no element for a structure"))
        }
        return KeyedDecodingContainer(KeyedContainer(element: element, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        // At the root an array is the root's children (``XElementEncoder`` writes them as `item`s).
        UnkeyedContainer(elements: isRoot ? (elements.first?.elements ?? []) : elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleValueContainer(decoder: self) }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let codingPath: [any CodingKey]
    private let children: [String: [XElement]]

    init(element: XElement, codingPath: [any CodingKey]) {
        self.codingPath = codingPath
        var children: [String: [XElement]] = [:]
        for child in element.elements { children[child.name.local, default: []].append(child) }
        self.children = children
    }

    var allKeys: [Key] { children.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { children[key.stringValue] != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let first = children[key.stringValue]?.first else { return true }
        return XElementDecoder.isNil(first)
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let matches = children[key.stringValue] ?? []
        if matches.isEmpty, type is any XMLScalar.Type {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no element <\(key.stringValue)>"))
        }
        return try FieldDecoder(elements: matches, isRoot: false, codingPath: codingPath + [key]).decodeValue(type)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try FieldDecoder(elements: children[key.stringValue] ?? [], isRoot: false, codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        UnkeyedContainer(elements: children[key.stringValue] ?? [], codingPath: codingPath + [key])
    }

    func superDecoder() throws -> any Decoder { FieldDecoder(elements: children["super"] ?? [], isRoot: false, codingPath: codingPath) }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        FieldDecoder(elements: children[key.stringValue] ?? [], isRoot: false, codingPath: codingPath + [key])
    }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [XElement]
    let codingPath: [any CodingKey]
    private(set) var currentIndex = 0

    init(elements: [XElement], codingPath: [any CodingKey]) {
        self.elements = elements
        self.codingPath = codingPath
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next() throws -> FieldDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "no more elements"))
        }
        defer { currentIndex += 1 }
        return FieldDecoder(elements: [elements[currentIndex]], isRoot: false, codingPath: codingPath)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, XElementDecoder.isNil(elements[currentIndex]) else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeValue(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }

    mutating func superDecoder() throws -> any Decoder { try next() }
}

private struct SingleValueContainer: SingleValueDecodingContainer {
    let decoder: FieldDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.elements.first.map(XElementDecoder.isNil) ?? true }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(type) }
}
