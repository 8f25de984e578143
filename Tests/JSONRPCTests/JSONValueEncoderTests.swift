import Foundation
import Testing

@testable import JSONRPC
@testable import SwitchboardJSON

/// The encoder that builds results and parameters as JSON trees, checked against
/// Foundation's `JSONEncoder`: the same JSON (compared as parsed values, since member
/// order differs), or the same error at the same coding path.
@Suite("JSONValueEncoder: typed values to a JSON tree, as JSONEncoder writes them")
struct JSONValueEncoderTests {
    struct Point: Codable {
        var x: Int
        var y: Double
        var label: String?
    }

    struct Shape: Codable {
        enum Kind: String, Codable { case polygon, circle }
        var kind: Kind
        var points: [Point]
        var tags: [String: Int]
        var byNumber: [Int: String]
        var weights: [Int?]
        var small: [UInt8]
        var big: UInt64
        var flag: Bool
        var nested: [[String]]
    }

    struct Special: Codable {
        var data: Data
        var url: URL
        var when: Date
        var amount: Decimal
    }

    /// Writes through nested and super containers by hand.
    struct Manual: Encodable {
        enum Key: String, CodingKey { case a, b, c }
        func encode(to encoder: any Encoder) throws {
            var keyed = encoder.container(keyedBy: Key.self)
            var list = keyed.nestedUnkeyedContainer(forKey: .a)
            try list.encode(1)
            try list.encodeNil()
            var inner = list.nestedContainer(keyedBy: Key.self)
            try inner.encode("x", forKey: .b)
            var object = keyed.nestedContainer(keyedBy: Key.self, forKey: .b)
            try object.encode(true, forKey: .c)
            try keyed.encodeNil(forKey: .c)
            try Point(x: 1, y: 2, label: nil).encode(to: keyed.superEncoder())
        }
    }

    struct Nothing: Encodable {
        func encode(to encoder: any Encoder) throws {}
    }

    struct Wrapper<T: Encodable>: Encodable {
        var inner: T
    }

    enum Outcome: Equatable {
        case json(JSONValue)
        case failure(path: String)
    }

    static func outcome(_ body: () throws -> [UInt8]) -> Outcome {
        do {
            let bytes = try body()
            return .json(try bytes.withUnsafeBytes { try JSONParser.parse($0, maxDepth: 64, validateUTF8: true) })
        } catch let EncodingError.invalidValue(_, context) {
            return .failure(path: context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: "."))
        } catch {
            return .failure(path: "unexpected \(error)")
        }
    }

    static func check<T: Encodable>(_ value: T, sourceLocation: SourceLocation = #_sourceLocation) {
        let ours = outcome { try JSONCoding.encode(value) }
        let foundation = outcome { Array(try JSONEncoder().encode(value)) }
        #expect(ours == foundation, "\(value)", sourceLocation: sourceLocation)
    }

    @Test("Scalars: every integer width, floats, strings, booleans, optionals; a non-finite number is an error")
    func scalars() {
        Self.check(42)
        Self.check(Int8.min)
        Self.check(UInt64.max)
        Self.check(UInt.max)
        Self.check(2.5)
        Self.check(Float(0.1))
        Self.check(1e300)
        Self.check("caf\u{E9} \"quoted\" \\ / \u{1}")
        Self.check(true)
        Self.check(Int?.none)
        Self.check(Int?.some(3))
        Self.check(Double.nan)
        Self.check(Double.infinity)
        Self.check(Wrapper(inner: [1.0, -Double.infinity]))
    }

    @Test("Containers and structs: arrays, dictionaries with string and integer keys, nested members, nil members left out")
    func structs() {
        let shape = Shape(
            kind: .circle, points: [Point(x: 1, y: 2.5, label: nil), Point(x: -3, y: 4, label: "b")],
            tags: ["a": 1, "b": 2], byNumber: [1: "one", 20: "twenty"], weights: [1, nil], small: [0, 255],
            big: UInt64.max, flag: false, nested: [[], ["x", "y"]])
        Self.check(shape)
        Self.check([shape, shape])
        Self.check([String: Shape]())
        Self.check([Int]())
        Self.check(Manual())
        Self.check(Wrapper(inner: Nothing()))
        Self.check(Nothing())
        Self.check(JSONValue.object(["a": [1, "two", .null]]))
    }

    @Test("Data, URL, Date and Decimal are written as JSONEncoder writes them")
    func foundationTypes() {
        let special = Special(
            data: Data([1, 2, 3]), url: URL(string: "https://example.com/a?b=1")!,
            when: Date(timeIntervalSinceReferenceDate: 12.5), amount: Decimal(string: "3.25")!)
        Self.check(special)
        Self.check([special])
        Self.check(Wrapper(inner: Data()))
    }
}
