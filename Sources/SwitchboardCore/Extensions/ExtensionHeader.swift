/// The grammar of `Sec-WebSocket-Extensions` (RFC 6455 §9.1):
///
///     extension-list  = 1#extension
///     extension       = extension-token *( ";" extension-param )
///     extension-param = token [ "=" ( token / quoted-string ) ]
///
/// A quoted value must be a token once unquoted (§9.1). Several header lines
/// form one list (RFC 9110 §5.3).
public enum ExtensionHeader {
    /// A header value that does not follow the grammar.
    public struct SyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
        public var header: String
        public var description: String { "malformed Sec-WebSocket-Extensions: \(header)" }
    }

    /// Parses all lines of the header into one list of elements, in order.
    public static func parse(_ lines: [String]) throws(SyntaxError) -> [ExtensionOffer] {
        var result: [ExtensionOffer] = []
        for line in lines {
            var scanner = Scanner(Array(line.utf8))
            guard let offers = scanner.list() else { throw SyntaxError(header: line) }
            result += offers
        }
        return result
    }

    /// Serializes a list of elements into one header value.
    public static func serialize(_ offers: [ExtensionOffer]) -> String {
        offers.map(\.description).joined(separator: ", ")
    }

    static func quotedIfNeeded(_ value: String) -> String {
        !value.isEmpty && value.utf8.allSatisfy(isTokenChar) ? value : "\"\(value)\""
    }

    /// tchar of RFC 9110 §5.6.2.
    static func isTokenChar(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true  // the rest of RFC 9110 §5.6.2's tchar (a switch: the array it was allocated on every call)
        default:
            return false
        }
    }

    /// A recursive-descent reader over one header line; each method returns `nil` on a syntax error.
    private struct Scanner {
        let bytes: [UInt8]
        var i = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }

        mutating func skipWhitespace() { while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 } }

        mutating func consume(_ c: Character) -> Bool {
            skipWhitespace()
            guard i < bytes.count, bytes[i] == c.asciiValue! else { return false }
            i += 1
            return true
        }

        mutating func token() -> String? {
            skipWhitespace()
            let start = i
            while i < bytes.count, ExtensionHeader.isTokenChar(bytes[i]) { i += 1 }
            return i > start ? String(decoding: bytes[start..<i], as: UTF8.self) : nil
        }

        mutating func quotedString() -> String? {
            guard consume("\"") else { return nil }
            var out: [UInt8] = []
            while i < bytes.count {
                let c = bytes[i]
                i += 1
                switch c {
                case UInt8(ascii: "\""):
                    // §9.1: the unquoted value must itself be a token.
                    guard !out.isEmpty, out.allSatisfy(ExtensionHeader.isTokenChar) else { return nil }
                    return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard i < bytes.count else { return nil }
                    out.append(bytes[i])
                    i += 1
                default:
                    out.append(c)
                }
            }
            return nil
        }

        mutating func list() -> [ExtensionOffer]? {
            var offers: [ExtensionOffer] = []
            while true {
                skipWhitespace()
                guard i < bytes.count else { break }
                if bytes[i] == UInt8(ascii: ",") {  // empty list elements are ignored (RFC 9110 §5.6.1)
                    i += 1
                    continue
                }
                guard let name = token() else { return nil }
                var offer = ExtensionOffer(name)
                while consume(";") {
                    guard let param = token() else { return nil }
                    if consume("=") {
                        skipWhitespace()
                        let isQuoted = i < bytes.count && bytes[i] == UInt8(ascii: "\"")
                        guard let value = isQuoted ? quotedString() : token() else { return nil }
                        offer.parameters.append(.init(param, value))
                    } else {
                        offer.parameters.append(.init(param))
                    }
                }
                offers.append(offer)
                skipWhitespace()
                guard i == bytes.count || consume(",") else { return nil }
            }
            return offers.isEmpty ? nil : offers
        }
    }
}
