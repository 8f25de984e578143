import FuzzDriver

@testable import JSONRPC
@testable import SwitchboardJSON

/// The JSON parser and the JSON-RPC message rules, with a round trip: whatever parses,
/// written back and parsed again, is the same value.
@_cdecl("FuzzJSON_main")
public func fuzzJSONMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    switchboard_fuzz_main(argc, argv, fuzzJSON)
}

func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start = data else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    guard let value = try? JSONParser.parse(bytes, maxDepth: 64, validateUTF8: true) else { return 0 }
    var written: [UInt8] = []
    JSONWriter.write(value, to: &written)
    let again = written.withUnsafeBytes { try? JSONParser.parse($0, maxDepth: 64, validateUTF8: true) }
    precondition(again.map { JSONValue.sameValue($0, value) } == true, "written JSON does not parse back to the same value")
    if case .array(let batch) = value {
        for member in batch { _ = IncomingMessage(member) }
    } else {
        _ = IncomingMessage(value)
    }
    // Typed decoding, as a method's parameters are decoded.
    _ = try? JSONValueDecoder.decode([Int].self, from: value)
    _ = try? JSONValueDecoder.decode([String: Double].self, from: value)
    _ = try? JSONValueDecoder.decode(Shape.self, from: value)
    return 0
}

struct Shape: Decodable {
    var name: String
    var sizes: [UInt8]?
    var nested: [Shape]?
    var flag: Bool?
}

extension JSONValue {
    /// Equal, where a double written back may read as an integer (`2.0` is written `2.0`,
    /// but `1e2` comes back as `100.0`): numbers compare by value.
    static func sameValue(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.integer(let x), .double(let y)), (.double(let y), .integer(let x)): return Double(x) == y
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { sameValue($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { key, member in y[key].map { sameValue(member, $0) } ?? false }
        default: return a == b
        }
    }
}
