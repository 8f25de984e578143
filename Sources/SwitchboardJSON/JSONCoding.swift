#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Between typed Swift values and JSON, through ``JSONValue`` trees: the parser
/// makes them and ``JSONValueDecoder`` reads them; ``JSONValueEncoder`` makes them
/// and ``JSONWriter`` writes them.
package enum JSONCoding {
    /// Encodes `value` as compact JSON text.
    package static func encode<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        var out: [UInt8] = []
        JSONWriter.write(try JSONValueEncoder.encode(value), to: &out)
        return out
    }

    /// Whether Foundation's JSON coders write `type` in a way of their own, not as its `Codable`
    /// conformance does (`Data` as base64, `URL` as a string, `Decimal` as a number, `Date` as
    /// seconds): ``JSONValueDecoder`` and ``JSONValueEncoder`` hand such values to them.
    static func isWrittenByFoundation(_ type: Any.Type) -> Bool {
        type == Data.self || type == Date.self || type == URL.self || type == Decimal.self
    }

    /// Decodes a `Value` from an already parsed JSON value, walking the tree (``JSONValueDecoder``).
    package static func decode<Value: Decodable>(_ type: Value.Type, from json: JSONValue) throws -> Value {
        try JSONValueDecoder.decode(type, from: json)
    }
}

/// A key of a coding path that ``JSONValueDecoder`` and ``JSONValueEncoder`` build:
/// a member's name or an element's index.
package struct JSONCodingKey: CodingKey {
    package let stringValue: String
    package let intValue: Int?

    init(_ name: String) { (stringValue, intValue) = (name, nil) }
    init(index: Int) { (stringValue, intValue) = ("Index \(index)", index) }
    package init?(stringValue: String) { self.init(stringValue) }
    package init?(intValue: Int) { self.init(index: intValue) }
}
