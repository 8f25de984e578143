#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A `Decoder` that reads a typed value straight out of a parsed ``JSONValue``.
///
/// A request is parsed once, into a `JSONValue`, to find its method and id; its
/// parameters were then written back to JSON text and parsed again by
/// Foundation's `JSONDecoder`: 14 of the server's 45 heap allocations per call of
/// `jsonrpc-bench`'s `subtract` (heaptrack). This decoder walks the tree instead.
///
/// It follows `JSONDecoder`'s rules where a method could tell them apart: an
/// integer type takes any number it can hold exactly (`2` and `2.0`, not `2.5`
/// nor `300` for `UInt8`); a floating-point type takes any number; `null`
/// for a value that is not optional is `valueNotFound`. `Data`, `Date`, `URL`
/// and `Decimal`, which `JSONDecoder` reads in ways of its own (base64, a
/// string, seconds), are handed to `JSONDecoder`, with their path kept.
package struct JSONValueDecoder: Decoder {
    let value: JSONValue
    package let codingPath: [any CodingKey]
    package var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(_ value: JSONValue, codingPath: [any CodingKey] = []) {
        self.value = value
        self.codingPath = codingPath
    }

    /// Decodes a `T` from `value`.
    static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue, codingPath: [any CodingKey] = []) throws -> T {
        if let value = value as? T { return value }
        if JSONCoding.isWrittenByFoundation(T.self) { return try decodeWithFoundation(type, from: value, codingPath: codingPath) }
        return try T(from: JSONValueDecoder(value, codingPath: codingPath))
    }

    private static func decodeWithFoundation<T: Decodable>(_ type: T.Type, from value: JSONValue, codingPath: [any CodingKey]) throws -> T {
        var bytes: [UInt8] = []
        JSONWriter.write(value, to: &bytes)
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw error.prefixingPath(codingPath)
        }
    }

    package func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else { throw Self.mismatch([String: JSONValue].self, value, codingPath, container: "keyed") }
        return KeyedDecodingContainer(Keyed(members: members, codingPath: codingPath))
    }

    package func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw Self.mismatch([JSONValue].self, value, codingPath, container: "unkeyed") }
        return Unkeyed(elements: elements, codingPath: codingPath)
    }

    package func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(value: value, codingPath: codingPath) }

    // MARK: Scalars, shared by the three containers

    /// A scalar read from `value`, or any other type decoded from it (an Optional reads null itself).
    /// The path is built only for an error or a nested value: a member decoded without fault costs no array.
    static func scalar<T: Decodable>(_ type: T.Type, _ value: JSONValue, _ path: @autoclosure () -> [any CodingKey]) throws -> T {
        switch type {
        case is Bool.Type:
            guard case .bool(let bool) = value else { throw mismatch(type, value, path()) }
            return bool as! T
        case is String.Type:
            guard case .string(let string) = value else { throw mismatch(type, value, path()) }
            return string as! T
        case is Double.Type: return try floating(Double.self, value, path) as! T
        case is Float.Type: return try floating(Float.self, value, path) as! T
        case is Int.Type: return try integer(Int.self, value, path) as! T
        case is Int8.Type: return try integer(Int8.self, value, path) as! T
        case is Int16.Type: return try integer(Int16.self, value, path) as! T
        case is Int32.Type: return try integer(Int32.self, value, path) as! T
        case is Int64.Type: return try integer(Int64.self, value, path) as! T
        case is UInt.Type: return try integer(UInt.self, value, path) as! T
        case is UInt8.Type: return try integer(UInt8.self, value, path) as! T
        case is UInt16.Type: return try integer(UInt16.self, value, path) as! T
        case is UInt32.Type: return try integer(UInt32.self, value, path) as! T
        case is UInt64.Type: return try integer(UInt64.self, value, path) as! T
        default: return try decode(type, from: value, codingPath: path())
        }
    }

    private static func integer<T: FixedWidthInteger>(_ type: T.Type, _ value: JSONValue, _ path: () -> [any CodingKey]) throws -> T {
        let result: T?
        switch value {
        case .integer(let integer): result = T(exactly: integer)
        case .double(let double): result = T(exactly: double)
        default: throw mismatch(type, value, path())
        }
        guard let result else {
            throw DecodingError.dataCorrupted(.init(codingPath: path(), debugDescription: "Number \(value) does not fit in \(type)."))
        }
        return result
    }

    private static func floating<T: BinaryFloatingPoint>(_ type: T.Type, _ value: JSONValue, _ path: () -> [any CodingKey]) throws -> T {
        switch value {
        case .integer(let integer): return T(integer)
        case .double(let double):
            let result = T(double)
            guard result.isFinite else {
                throw DecodingError.dataCorrupted(.init(codingPath: path(), debugDescription: "Number \(value) does not fit in \(type)."))
            }
            return result
        default: throw mismatch(type, value, path())
        }
    }

    /// The error for a value of the wrong kind. Null is `valueNotFound`, as in `JSONDecoder`,
    /// except for a `Bool`, which `JSONDecoder` calls a type mismatch.
    static func mismatch(_ type: Any.Type, _ value: JSONValue, _ path: [any CodingKey], container: String? = nil) -> DecodingError {
        if case .null = value, !(type is Bool.Type) {
            let description =
                container.map { "Cannot get \($0) decoding container -- found null value instead." }
                ?? "Expected \(type) value but found null instead."
            return .valueNotFound(type, .init(codingPath: path, debugDescription: description))
        }
        let found: String
        switch value {
        case .null: found = "null"
        case .bool: found = "bool"
        case .integer, .double: found = "number"
        case .string: found = "a string"
        case .array: found = "an array"
        case .object: found = "a dictionary"
        }
        return .typeMismatch(type, .init(codingPath: path, debugDescription: "Expected to decode \(type) but found \(found) instead."))
    }
}

extension JSONValueDecoder {
    private struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let members: [String: JSONValue]
        let codingPath: [any CodingKey]

        var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }
        func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

        private func member(_ key: Key) throws -> JSONValue {
            guard let value = members[key.stringValue] else {
                throw DecodingError.keyNotFound(
                    key, .init(codingPath: codingPath, debugDescription: "No value associated with key \(key.stringValue)."))
            }
            return value
        }

        func decodeNil(forKey key: Key) throws -> Bool {
            if case .null = try member(key) { return true }
            return false
        }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try JSONValueDecoder.scalar(type, try member(key), codingPath + [key])
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            try JSONValueDecoder(try member(key), codingPath: codingPath + [key]).container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try JSONValueDecoder(try member(key), codingPath: codingPath + [key]).unkeyedContainer()
        }

        func superDecoder() throws -> any Decoder {
            JSONValueDecoder(members["super"] ?? .null, codingPath: codingPath + [JSONCodingKey("super")])
        }

        func superDecoder(forKey key: Key) throws -> any Decoder {
            JSONValueDecoder(members[key.stringValue] ?? .null, codingPath: codingPath + [key])
        }
    }

    private struct Unkeyed: UnkeyedDecodingContainer {
        let elements: [JSONValue]
        let codingPath: [any CodingKey]
        private(set) var currentIndex = 0

        init(elements: [JSONValue], codingPath: [any CodingKey]) {
            self.elements = elements
            self.codingPath = codingPath
        }

        var count: Int? { elements.count }
        var isAtEnd: Bool { currentIndex >= elements.count }

        private func path(at index: Int) -> [any CodingKey] { codingPath + [JSONCodingKey(index: index)] }

        /// The next element and its index.
        private mutating func next(_ type: Any.Type) throws -> (JSONValue, Int) {
            guard !isAtEnd else {
                throw DecodingError.valueNotFound(type, .init(codingPath: path(at: currentIndex), debugDescription: "Unkeyed container is at end."))
            }
            defer { currentIndex += 1 }
            return (elements[currentIndex], currentIndex)
        }

        mutating func decodeNil() throws -> Bool {
            guard !isAtEnd else { return false }
            guard case .null = elements[currentIndex] else { return false }
            currentIndex += 1
            return true
        }

        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            let (value, index) = try next(type)
            return try JSONValueDecoder.scalar(type, value, path(at: index))
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            let (value, index) = try next([String: JSONValue].self)
            return try JSONValueDecoder(value, codingPath: path(at: index)).container(keyedBy: type)
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            let (value, index) = try next([JSONValue].self)
            return try JSONValueDecoder(value, codingPath: path(at: index)).unkeyedContainer()
        }

        mutating func superDecoder() throws -> any Decoder {
            let (value, index) = try next(JSONValue.self)
            return JSONValueDecoder(value, codingPath: path(at: index))
        }
    }

    private struct Single: SingleValueDecodingContainer {
        let value: JSONValue
        let codingPath: [any CodingKey]

        func decodeNil() -> Bool {
            if case .null = value { return true }
            return false
        }

        func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONValueDecoder.scalar(type, value, codingPath) }
    }
}

extension DecodingError {
    /// The same error, with `prefix` before its coding path: a value decoded apart from the tree it is in.
    func prefixingPath(_ prefix: [any CodingKey]) -> DecodingError {
        guard !prefix.isEmpty else { return self }
        func moved(_ context: Context) -> Context {
            Context(codingPath: prefix + context.codingPath, debugDescription: context.debugDescription, underlyingError: context.underlyingError)
        }
        switch self {
        case .typeMismatch(let type, let context): return .typeMismatch(type, moved(context))
        case .valueNotFound(let type, let context): return .valueNotFound(type, moved(context))
        case .keyNotFound(let key, let context): return .keyNotFound(key, moved(context))
        case .dataCorrupted(let context): return .dataCorrupted(moved(context))
        @unknown default: return self
        }
    }
}
