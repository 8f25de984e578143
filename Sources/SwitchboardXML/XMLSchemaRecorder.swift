/// The XML Schema shape of a `Decodable` type, found by decoding it once with a decoder
/// that records what is asked of it instead of reading a document.
///
/// This is how a SOAP endpoint describes its operations' inputs and outputs in its WSDL
/// without the user writing a schema: a synthesized `init(from:)` asks for each stored
/// property by key and type, and `decodeIfPresent` first asks whether the value is nil,
/// which marks the property optional. Scalars map to XSD built-in types (``XMLScalar``),
/// arrays to repeated elements, nested structures to nested complex types. A type whose
/// `init(from:)` validates what it reads (a `RawRepresentable` enum) cannot be described
/// this way and is an error; a recursive type is cut at ``maxDepth`` with `xsd:anyType`.
package enum XMLSchemaRecorder {
    /// How deep nested structures are followed.
    static let maxDepth = 8

    package static func describe<Value: Decodable>(_ type: Value.Type) throws -> XMLSchemaType {
        let decoder = RecordingDecoder(depth: 0, codingPath: [])
        _ = try decoder.record(type)
        return decoder.shape.type
    }
}

/// The XSD type of an element: an XML Schema built-in (`long`, `string`, ...) or a complex type.
package indirect enum XMLSchemaType: Sendable, Hashable {
    case builtIn(String)
    case sequence([XMLSchemaField])
    /// Anything (`xsd:anyType`): a shape the recorder could not follow.
    case any
}

/// One child element of a complex type.
package struct XMLSchemaField: Sendable, Hashable {
    package var name: String
    package var type: XMLSchemaType
    /// `minOccurs="0"`.
    package var isOptional: Bool
    /// `maxOccurs="unbounded"`.
    package var isRepeated: Bool

    package init(name: String, type: XMLSchemaType, isOptional: Bool, isRepeated: Bool) {
        self.name = name
        self.type = type
        self.isOptional = isOptional
        self.isRepeated = isRepeated
    }
}

/// What one recording decoder learned.
private final class Shape {
    enum Kind {
        case unknown
        case scalar(String)
        case fields
        case list(XMLSchemaType)
    }
    var kind = Kind.unknown
    var fields: [XMLSchemaField] = []
    /// Keys asked `decodeNil` first: `decodeIfPresent`, an optional property.
    var probedForNil: Set<String> = []

    var type: XMLSchemaType {
        switch kind {
        case .unknown: .any
        case .scalar(let name): .builtIn(name)
        case .fields: .sequence(fields)
        case .list(let element): element
        }
    }
    var isList: Bool { if case .list = kind { true } else { false } }
}

private final class RecordingDecoder: Decoder {
    let depth: Int
    let codingPath: [any CodingKey]
    let shape = Shape()
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(depth: Int, codingPath: [any CodingKey]) {
        self.depth = depth
        self.codingPath = codingPath
    }

    func record<T: Decodable>(_ type: T.Type) throws -> T {
        if let scalar = type as? any XMLScalar.Type {
            shape.kind = .scalar(scalar.schemaType)
            return Self.placeholder(scalar) as! T
        }
        do {
            return try T(from: self)
        } catch {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: codingPath,
                    debugDescription: "\(T.self) cannot be described in XML Schema: its init(from:) does more than read its properties (\(error))"))
        }
    }

    private static func placeholder<S: XMLScalar>(_ type: S.Type) -> S { S.placeholder }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        shape.kind = .fields
        return KeyedDecodingContainer(RecordingKeyedContainer(decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        shape.kind = .list(.any)
        return RecordingUnkeyedContainer(decoder: self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { RecordingSingleValueContainer(decoder: self) }
}

private struct RecordingKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: RecordingDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { [] }

    func contains(_ key: Key) -> Bool { true }

    func decodeNil(forKey key: Key) throws -> Bool {
        decoder.shape.probedForNil.insert(key.stringValue)
        // An optional at the depth limit is cut here (a recursive `next: Node?`): anything, optional.
        guard decoder.depth + 1 < XMLSchemaRecorder.maxDepth else {
            decoder.shape.fields.append(XMLSchemaField(name: key.stringValue, type: .any, isOptional: true, isRepeated: false))
            return true
        }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let child = RecordingDecoder(depth: decoder.depth + 1, codingPath: codingPath + [key])
        guard child.depth <= XMLSchemaRecorder.maxDepth else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: child.codingPath, debugDescription: "nested deeper than \(XMLSchemaRecorder.maxDepth)"))
        }
        let value = try child.record(type)
        decoder.shape.fields.append(
            XMLSchemaField(
                name: key.stringValue, type: child.shape.type, isOptional: decoder.shape.probedForNil.contains(key.stringValue),
                isRepeated: child.shape.isList))
        return value
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        throw DecodingError.dataCorrupted(
            .init(codingPath: codingPath + [key], debugDescription: "hand-written nested containers cannot be described"))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        throw DecodingError.dataCorrupted(
            .init(codingPath: codingPath + [key], debugDescription: "hand-written nested containers cannot be described"))
    }

    func superDecoder() throws -> any Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> any Decoder { decoder }
}

/// Hands out one element, recording its type, then reports the end; past ``XMLSchemaRecorder/maxDepth``
/// it hands out none, which cuts recursive types.
private struct RecordingUnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: RecordingDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { nil }
    private(set) var currentIndex = 0
    var isAtEnd: Bool { currentIndex > 0 || decoder.depth + 1 >= XMLSchemaRecorder.maxDepth }

    init(decoder: RecordingDecoder) { self.decoder = decoder }

    mutating func decodeNil() throws -> Bool { false }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        currentIndex += 1
        let element = RecordingDecoder(depth: decoder.depth + 1, codingPath: codingPath)
        let value = try element.record(type)
        decoder.shape.kind = .list(element.shape.type)
        return value
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "hand-written nested containers cannot be described"))
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "arrays of arrays cannot be described"))
    }

    mutating func superDecoder() throws -> any Decoder { decoder }
}

private struct RecordingSingleValueContainer: SingleValueDecodingContainer {
    let decoder: RecordingDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.record(type) }
}
