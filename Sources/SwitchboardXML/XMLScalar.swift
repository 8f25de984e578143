/// A Swift value written as the text of one element, and its XML Schema type.
///
/// The bridge between Codable's primitive values and XSD's built-in types, used by
/// ``XElementEncoder``, ``XElementDecoder`` and ``XMLSchemaRecorder`` alike, so the three
/// always agree on which Swift type is which XSD type.
package protocol XMLScalar: Codable, Sendable {
    /// The XML Schema built-in type (a local name in `http://www.w3.org/2001/XMLSchema`).
    static var schemaType: String { get }
    /// A value standing for the type when only its shape is wanted.
    static var placeholder: Self { get }
    init?(xmlText: String)
    var xmlText: String { get }
}

extension XMLScalar where Self: FixedWidthInteger {
    package static var placeholder: Self { 0 }
    /// xsd integers allow a leading `+` and surrounding whitespace.
    package init?(xmlText: String) {
        let trimmed = xmlText.trimmingXMLWhitespace()
        self.init(trimmed.hasPrefix("+") ? String(trimmed.dropFirst()) : trimmed)
    }
    package var xmlText: String { String(self) }
}

extension Int: XMLScalar { package static var schemaType: String { "long" } }
extension Int64: XMLScalar { package static var schemaType: String { "long" } }
extension Int32: XMLScalar { package static var schemaType: String { "int" } }
extension Int16: XMLScalar { package static var schemaType: String { "short" } }
extension Int8: XMLScalar { package static var schemaType: String { "byte" } }
extension UInt: XMLScalar { package static var schemaType: String { "unsignedLong" } }
extension UInt64: XMLScalar { package static var schemaType: String { "unsignedLong" } }
extension UInt32: XMLScalar { package static var schemaType: String { "unsignedInt" } }
extension UInt16: XMLScalar { package static var schemaType: String { "unsignedShort" } }
extension UInt8: XMLScalar { package static var schemaType: String { "unsignedByte" } }

extension String: XMLScalar {
    package static var schemaType: String { "string" }
    package static var placeholder: String { "" }
    package init?(xmlText: String) { self = xmlText }
    package var xmlText: String { self }
}

extension Bool: XMLScalar {
    package static var schemaType: String { "boolean" }
    package static var placeholder: Bool { false }
    package init?(xmlText: String) {
        switch xmlText.trimmingXMLWhitespace() {
        case "true", "1": self = true
        case "false", "0": self = false
        default: return nil
        }
    }
    package var xmlText: String { self ? "true" : "false" }
}

extension XMLScalar where Self: BinaryFloatingPoint & LosslessStringConvertible {
    package static var placeholder: Self { 0 }
    /// xsd:double spells infinity `INF` and not-a-number `NaN`.
    package init?(xmlText: String) {
        switch xmlText.trimmingXMLWhitespace() {
        case "INF", "+INF": self = .infinity
        case "-INF": self = -.infinity
        case "NaN": self = .nan
        case let text:
            guard let value = Self(text), value.isFinite else { return nil }
            self = value
        }
    }
    package var xmlText: String {
        if isNaN { return "NaN" }
        if isInfinite { return self < 0 ? "-INF" : "INF" }
        return "\(self)"
    }
}

extension Double: XMLScalar { package static var schemaType: String { "double" } }
extension Float: XMLScalar { package static var schemaType: String { "float" } }

extension String {
    /// Without leading and trailing XML whitespace (space, tab, CR, LF).
    package func trimmingXMLWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
