#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Between typed Swift values and JSON: decoding walks the parsed ``JSONValue``
/// tree; encoding uses Foundation's `JSONEncoder`, with a direct path for a
/// `JSONValue` result.
enum JSONCoding {
    /// Encodes `value` as compact JSON text.
    static func encode<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        if let json = value as? JSONValue {
            var out: [UInt8] = []
            JSONWriter.write(json, to: &out)
            return out
        }
        let encoder = JSONEncoder()
        // "a/b" stays "a/b": escaping the slash is legal but needless, and surprising in logs.
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    /// Decodes a `Value` from an already parsed JSON value, walking the tree (``JSONValueDecoder``).
    static func decode<Value: Decodable>(_ type: Value.Type, from json: JSONValue) throws -> Value {
        try JSONValueDecoder.decode(type, from: json)
    }
}
