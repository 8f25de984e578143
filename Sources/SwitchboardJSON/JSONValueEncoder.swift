#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// An `Encoder` that builds a ``JSONValue`` tree from a typed value, for
/// ``JSONWriter`` to write.
///
/// Foundation's `JSONEncoder` made an encoder object, a `Data` and then an
/// array of its bytes for every result and every call's parameters. This builds
/// the tree the writer takes anyway. It follows `JSONEncoder`'s output: a
/// non-finite number is an `invalidValue` error, a value that encodes nothing
/// at the top is one too, and `Data`, `Date`, `URL` and `Decimal`, which
/// `JSONEncoder` writes in ways of its own, are handed to it.
package struct JSONValueEncoder: Encoder {
    /// What an encoder, a container or a nested container writes into. A class:
    /// containers are values that write into it after they are handed out.
    final class Node {
        enum Kind { case empty, value, object, array }
        var kind = Kind.empty
        var value = JSONValue.null
        var members: [String: Slot] = [:]
        var elements: [Slot] = []

        func json() -> JSONValue {
            switch kind {
            case .empty: return .object([:])  // a nested value that wrote nothing is {}, as in JSONEncoder
            case .value: return value
            case .object: return .object(members.mapValues { $0.json() })
            case .array: return .array(elements.map { $0.json() })
            }
        }
    }

    /// A member or element: a finished value, or a node still being written.
    enum Slot {
        case value(JSONValue)
        case node(Node)

        func json() -> JSONValue {
            switch self {
            case .value(let value): return value
            case .node(let node): return node.json()
            }
        }
    }

    let node: Node
    package let codingPath: [any CodingKey]
    package var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// Encodes `value` as a tree.
    static func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        switch try slot(for: value, codingPath: []) {
        case .value(let json): return json
        case .node(let node) where node.kind == .empty:
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "Top-level \(T.self) did not encode any values."))
        case .node(let node): return node.json()
        }
    }

    /// `value` as a slot: a scalar directly, anything else through a node of its own. The path is
    /// built only for an error or a nested value: a scalar member or element costs no array.
    static func slot<T: Encodable>(for value: T, codingPath: @autoclosure () -> [any CodingKey]) throws -> Slot {
        if let json = try scalar(value, codingPath()) { return .value(json) }
        if JSONCoding.isWrittenByFoundation(T.self) { return .value(try encodeWithFoundation(value, codingPath: codingPath())) }
        let node = Node()
        try value.encode(to: JSONValueEncoder(node: node, codingPath: codingPath()))
        return node.kind == .value ? .value(node.value) : .node(node)
    }

    /// A scalar's JSON value, or nil when `value` is not a scalar.
    private static func scalar<T: Encodable>(_ value: T, _ path: @autoclosure () -> [any CodingKey]) throws -> JSONValue? {
        switch value {
        case let json as JSONValue: return json
        case let string as String: return .string(string)
        case let bool as Bool: return .bool(bool)
        case let int as Int: return .integer(int)
        case let double as Double: return try finite(double, value, path())
        case let float as Float:
            // Written with the Float's own shortest digits (0.1, not 0.10000000149011612), as JSONEncoder does.
            return try finite(Double(float.description) ?? Double(float), value, path())
        case let int as Int8: return .integer(Int(int))
        case let int as Int16: return .integer(Int(int))
        case let int as Int32: return .integer(Int(int))
        case let int as Int64: return .integer(Int(int))
        case let int as UInt8: return .integer(Int(int))
        case let int as UInt16: return .integer(Int(int))
        case let int as UInt32: return .integer(Int(int))
        case let int as UInt: return Int(exactly: int).map(JSONValue.integer) ?? .double(Double(int))
        case let int as UInt64: return Int(exactly: int).map(JSONValue.integer) ?? .double(Double(int))
        default: return nil
        }
    }

    private static func finite(_ number: Double, _ value: Any, _ path: [any CodingKey]) throws -> JSONValue {
        guard number.isFinite else {
            throw EncodingError.invalidValue(value, .init(codingPath: path, debugDescription: "Unable to encode \(number) directly in JSON."))
        }
        return .double(number)
    }

    private static func encodeWithFoundation<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws -> JSONValue {
        let bytes: Data
        do {
            bytes = try JSONEncoder().encode(value)
        } catch let error as EncodingError {
            throw error.prefixingPath(codingPath)
        }
        return try Array(bytes).withUnsafeBytes { try JSONParser.parse($0, maxDepth: 512, validateUTF8: false) }
    }

    package func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if node.kind != .object { (node.kind, node.members) = (.object, [:]) }
        return KeyedEncodingContainer(Keyed(node: node, codingPath: codingPath))
    }

    package func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if node.kind != .array { (node.kind, node.elements) = (.array, []) }
        return Unkeyed(node: node, codingPath: codingPath)
    }

    package func singleValueContainer() -> any SingleValueEncodingContainer { Single(node: node, codingPath: codingPath) }
}

extension JSONValueEncoder {
    private struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let node: Node
        let codingPath: [any CodingKey]

        mutating func encodeNil(forKey key: Key) { node.members[key.stringValue] = .value(.null) }

        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            node.members[key.stringValue] = try JSONValueEncoder.slot(for: value, codingPath: codingPath + [key])
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            child(key).container(keyedBy: keyType)
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { child(key).unkeyedContainer() }
        mutating func superEncoder() -> any Encoder { child(JSONCodingKey("super")) }
        mutating func superEncoder(forKey key: Key) -> any Encoder { child(key) }

        private func child(_ key: any CodingKey) -> JSONValueEncoder {
            let child = Node()
            node.members[key.stringValue] = .node(child)
            return JSONValueEncoder(node: child, codingPath: codingPath + [key])
        }
    }

    private struct Unkeyed: UnkeyedEncodingContainer {
        let node: Node
        let codingPath: [any CodingKey]
        var count: Int { node.elements.count }

        private var nextPath: [any CodingKey] { codingPath + [JSONCodingKey(index: count)] }

        mutating func encodeNil() { node.elements.append(.value(.null)) }

        mutating func encode<T: Encodable>(_ value: T) throws {
            node.elements.append(try JSONValueEncoder.slot(for: value, codingPath: nextPath))
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            child().container(keyedBy: keyType)
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { child().unkeyedContainer() }
        mutating func superEncoder() -> any Encoder { child() }

        private func child() -> JSONValueEncoder {
            let child = Node()
            let path = nextPath
            node.elements.append(.node(child))
            return JSONValueEncoder(node: child, codingPath: path)
        }
    }

    private struct Single: SingleValueEncodingContainer {
        let node: Node
        let codingPath: [any CodingKey]

        mutating func encodeNil() { (node.kind, node.value) = (.value, .null) }

        mutating func encode<T: Encodable>(_ value: T) throws {
            switch try JSONValueEncoder.slot(for: value, codingPath: codingPath) {
            case .value(let json):
                (node.kind, node.value) = (.value, json)
            case .node(let written):
                (node.kind, node.value, node.members, node.elements) = (written.kind, written.value, written.members, written.elements)
            }
        }
    }
}

extension EncodingError {
    /// The same error, with `prefix` before its coding path: a value encoded apart from the tree it is in.
    func prefixingPath(_ prefix: [any CodingKey]) -> EncodingError {
        guard !prefix.isEmpty, case .invalidValue(let value, let context) = self else { return self }
        return .invalidValue(
            value,
            Context(
                codingPath: prefix + context.codingPath, debugDescription: context.debugDescription,
                underlyingError: context.underlyingError))
    }
}
