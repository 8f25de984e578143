import Foundation
import Testing

@testable import JSONRPC
@testable import SwitchboardJSON

/// The decoder that reads typed parameters and results from the parsed tree, checked
/// against Foundation's `JSONDecoder` on the same text: the same value, or the same kind
/// of error at the same coding path.
@Suite("JSONValueDecoder: typed values from a parsed JSON tree, as JSONDecoder reads them")
struct JSONValueDecoderTests {
    struct Point: Codable, Equatable {
        var x: Int
        var y: Double
        var label: String?
    }

    struct Shape: Codable, Equatable {
        enum Kind: String, Codable { case polygon, circle }
        var kind: Kind
        var points: [Point]
        var tags: [String: Int]
        var weights: [Int?]
        var flag: Bool
    }

    struct Special: Codable, Equatable {
        var data: Data
        var url: URL
        var when: Date
        var amount: Decimal
    }

    /// The outcome of one decoding: the value, or the error's kind and path.
    enum Outcome<T: Equatable>: Equatable {
        case value(T)
        case failure(kind: String, path: String)
    }

    static func outcome<T: Decodable & Equatable>(_ body: () throws -> T) -> Outcome<T> {
        do { return .value(try body()) } catch let error as DecodingError {
            let (kind, context): (String, DecodingError.Context)
            switch error {
            case .typeMismatch(_, let c): (kind, context) = ("typeMismatch", c)
            case .valueNotFound(_, let c): (kind, context) = ("valueNotFound", c)
            case .keyNotFound(let key, let c):
                (kind, context) = ("keyNotFound", DecodingError.Context(codingPath: c.codingPath + [key], debugDescription: ""))
            case .dataCorrupted(let c): (kind, context) = ("dataCorrupted", c)
            @unknown default: (kind, context) = ("unknown", DecodingError.Context(codingPath: [], debugDescription: ""))
            }
            return .failure(kind: kind, path: context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: "."))
        } catch {
            return .failure(kind: "\(type(of: error))", path: "")
        }
    }

    static func check<T: Decodable & Equatable>(_ type: T.Type, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let tree = try Array(text.utf8).withUnsafeBytes { try JSONParser.parse($0, maxDepth: 64, validateUTF8: true) }
        let ours = outcome { try JSONValueDecoder.decode(type, from: tree) }
        let foundation = outcome { try JSONDecoder().decode(type, from: Data(text.utf8)) }
        #expect(ours == foundation, "\(T.self) from \(text)", sourceLocation: sourceLocation)
    }

    @Test("Numbers: an integer type takes what it holds exactly; floating point takes any number; out of range is an error")
    func numbers() throws {
        for text in ["2", "2.0", "-7", "2.5", "1e3", "300", "-1", "\"2\"", "true", "null", "9223372036854775807", "1e300"] {
            try Self.check(Int.self, text)
            try Self.check(Int8.self, text)
            try Self.check(UInt8.self, text)
            try Self.check(UInt64.self, text)
            try Self.check(Double.self, text)
            try Self.check(Float.self, text)
        }
    }

    @Test("Scalars and containers: strings, booleans, arrays, objects, optionals, null")
    func scalarsAndContainers() throws {
        for text in ["\"caf\u{E9}\"", "true", "1", "null", "[]", "{}"] {
            try Self.check(String.self, text)
            try Self.check(Bool.self, text)
            try Self.check(String?.self, text)
        }
        for text in ["[1,2,3]", "[1,null]", "[]", "{\"a\":1}", "[\"a\"]", "[[1]]", "null", "[null]", "{\"a\":null}", "1"] {
            try Self.check([Int].self, text)
            try Self.check([Int?].self, text)
            try Self.check([String: Int].self, text)
            try Self.check([[Int]].self, text)
        }
    }

    @Test("Structs: nested members, missing keys, nulls and wrong types are reported at their path")
    func structs() throws {
        let good = #"{"kind":"circle","points":[{"x":1,"y":2.5},{"x":3,"y":4,"label":"b"}],"tags":{"a":1},"weights":[1,null],"flag":false}"#
        try Self.check(Shape.self, good)
        try Self.check(Shape.self, good.replacingOccurrences(of: #""x":3"#, with: #""x":"3""#))
        try Self.check(Shape.self, good.replacingOccurrences(of: #""x":3,"#, with: ""))
        try Self.check(Shape.self, good.replacingOccurrences(of: #""y":4"#, with: #""y":null"#))
        try Self.check(Shape.self, good.replacingOccurrences(of: #""circle""#, with: #""square""#))
        try Self.check(Shape.self, good.replacingOccurrences(of: #""tags":{"a":1}"#, with: #""tags":[1]"#))
        try Self.check(Shape.self, good.replacingOccurrences(of: #""label":"b""#, with: #""label":null"#))
        try Self.check(Shape.self, good.replacingOccurrences(of: #""flag":false"#, with: #""flag":null"#))
        try Self.check(Shape.self, good.replacingOccurrences(of: #""kind":"circle""#, with: #""kind":null"#))
        try Self.check(Shape.self, good.replacingOccurrences(of: #""points":["#, with: #""points":[null,"#))
        try Self.check(Shape.self, "[]")
        try Self.check(Shape.self, "null")
    }

    @Test("Data, URL, Date and Decimal are read as JSONDecoder reads them, errors at their path")
    func foundationTypes() throws {
        let good = #"{"data":"AQID","url":"https://example.com/a?b=1","when":12.5,"amount":3.25}"#
        try Self.check(Special.self, good)
        try Self.check(Special.self, good.replacingOccurrences(of: #""AQID""#, with: #""not base64!""#))
        try Self.check(Special.self, good.replacingOccurrences(of: "12.5", with: #""soon""#))
        try Self.check([Special].self, "[\(good)]")
    }
}
