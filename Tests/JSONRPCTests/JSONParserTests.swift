import Foundation
import SwitchboardTestSupport
import Testing

@testable import JSONRPC
@testable import SwitchboardJSON

/// The parser and writer against RFC 8259, cross-checked with Foundation.
@Suite("JSON parser and writer (RFC 8259)")
struct JSONParserTests {
    static func parse(_ text: String, maxDepth: Int = 64, validateUTF8: Bool = false) throws -> JSONValue {
        try Array(text.utf8).withUnsafeBytes { try JSONParser.parse($0, maxDepth: maxDepth, validateUTF8: validateUTF8) }
    }

    @Test(
        "Values parse as Foundation parses them",
        arguments: [
            "0", "-0", "7", "-3", "9223372036854775807", "-9223372036854775808", "1.5", "-2.25e-3", "1E+2", "6.02e23",
            "true", "false", "null", #""""#, #""a\"b\\c\/d\b\f\n\r\t""#, #""\u00e9\u4e2d\ud83d\ude00""#, #""héllo 👋🏽""#,
            "[]", "{}", "[1,[2,[3]],{}]", #"{"a":1,"b":[true,null],"c":{"d":"e"}}"#, " \t\r\n[ 1 , 2 ]\n ",
        ])
    func matchesFoundation(_ text: String) throws {
        #expect(try Self.parse(text) == json(text))
    }

    @Test("Integers stay exact; those beyond Int become doubles")
    func integers() throws {
        #expect(try Self.parse("9007199254740993") == .integer(9_007_199_254_740_993))
        #expect(try Self.parse("-9223372036854775808") == .integer(.min))
        #expect(try Self.parse("9223372036854775808") == .double(9_223_372_036_854_775_808))
        #expect(try Self.parse("1.0") == .double(1))
        guard case .double = try Self.parse("1E+2") else {
            Issue.record("an exponent makes a double")
            return
        }
        #expect(try Self.parse("1E+2") == .integer(100), "a number is a number")
        #expect(Set([JSONValue.integer(100), .double(100)]).count == 1)
    }

    @Test("A lone surrogate escape becomes U+FFFD; a pair becomes its scalar")
    func surrogates() throws {
        #expect(try Self.parse(#""\ud800""#) == "\u{FFFD}")
        #expect(try Self.parse(#""\udc00x""#) == "\u{FFFD}x")
        #expect(try Self.parse(#""\ud800\u0041""#) == "\u{FFFD}A")
        #expect(try Self.parse(#""\uD83D\uDE00""#) == "😀")
    }

    @Test(
        "Malformed JSON is an error with its position, never a trap",
        arguments: [
            "", "[", "]", "{", "[1,]", "[1 2]", #"{"a"}"#, #"{"a":}"#, #"{a:1}"#, "01", "-", "-a", "1.", "1e", "1e+", ".1",
            "tru", "nulll", "NaN", "-Infinity", "1e400", #""\q""#, #""\u12G4""#, "\"a\u{01}\"", #""open"#, "[] x", "\u{FEFF}1",
        ])
    func malformed(_ text: String) {
        #expect(throws: JSONParseError.self) { try Self.parse(text) }
    }

    @Test("Invalid UTF-8 is an error when the bytes were not validated before")
    func utf8() throws {
        let bytes: [UInt8] = [0x22, 0xC3, 0x28, 0x22]
        #expect(throws: JSONParseError.self) {
            try bytes.withUnsafeBytes { try JSONParser.parse($0, maxDepth: 4, validateUTF8: true) }
        }
    }

    @Test("Depth: the limit parses, one more level is a limit error")
    func depth() throws {
        #expect(try Self.parse("[[[]]]", maxDepth: 3) == [[[]]])
        #expect(try Self.parse(#"{"a":{"b":[]}}"#, maxDepth: 3) == ["a": ["b": []]])
        do {
            _ = try Self.parse("[[[[]]]]", maxDepth: 3)
            Issue.record("parsed past the limit")
        } catch let error as JSONParseError {
            #expect(error.isLimit)
        }
    }

    @Test(
        "The writer escapes what JSON requires, and Foundation reads back the same value",
        arguments: [
            JSONValue.string("quote \" backslash \\ slash / newline \n tab \t nul \u{0} bell \u{7} é 😀"),
            ["a": 1, "b": [true, false, .null], "c": ["d": 1.5]],
            .double(-0.5), .double(1e300), .integer(.min), [],
        ])
    func writer(_ value: JSONValue) throws {
        #expect(try json(value.description) == value)
    }

    @Test("The writer has no NaN or infinity: they are written as null")
    func nonFinite() {
        #expect(JSONValue.array([.double(.nan), .double(.infinity)]).description == "[null,null]")
    }

    @Test("Fuzz: 20 000 mutations of valid JSON either parse (and survive a write/parse round trip) or fail cleanly")
    func fuzz() throws {
        var generator = SeededRandom(seed: 0x5157_4348_424F_4152)
        let seeds = [
            #"{"jsonrpc":"2.0","method":"subtract","params":{"minuend":42,"subtrahend":23},"id":"a\u00e9"}"#,
            #"[{"jsonrpc":"2.0","method":"sum","params":[1,2.5e3,-0.25],"id":1},{"a":[true,false,null,"\ud83d\ude00"]}]"#,
        ].map { Array($0.utf8) }
        let alphabet = Array(#"{}[]:,"\/ue0123456789.-+Etrufalsn "#.utf8) + [0x00, 0x1F, 0x7F, 0xC3, 0xA9, 0xFF]
        var parsed = 0
        for _ in 0..<20_000 {
            var bytes = seeds[Int(generator.next() % UInt64(seeds.count))]
            for _ in 0...(generator.next() % 4) {
                let index = Int(generator.next() % UInt64(bytes.count))
                switch generator.next() % 3 {
                case 0: bytes[index] = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                case 1: bytes.remove(at: index)
                default: bytes.insert(alphabet[Int(generator.next() % UInt64(alphabet.count))], at: index)
                }
                if bytes.isEmpty { break }
            }
            guard let value = try? bytes.withUnsafeBytes({ try JSONParser.parse($0, maxDepth: 64, validateUTF8: true) }) else { continue }
            parsed += 1
            var written: [UInt8] = []
            JSONWriter.write(value, to: &written)
            let again = try written.withUnsafeBytes { try JSONParser.parse($0, maxDepth: 64, validateUTF8: true) }
            #expect(again == value)
        }
        #expect(parsed > 100, "the mutations should leave some valid JSON")
    }
}
