/// The header fields of a handshake request or response, in order, names compared without case (RFC 9110 §5.1).
public struct HandshakeHeaders: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var fields: [(name: String, value: String)]

    public init(_ fields: [(name: String, value: String)] = []) { self.fields = fields }
    public init(dictionaryLiteral elements: (String, String)...) { self.fields = elements.map { (name: $0.0, value: $0.1) } }

    public static func == (l: Self, r: Self) -> Bool { l.fields.elementsEqual(r.fields) { $0 == $1 } }
    public func hash(into h: inout Hasher) { for f in fields { h.combine(f.name); h.combine(f.value) } }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }

    public mutating func add(name: String, value: String) { fields.append((name, value)) }

    /// Replaces every field called `name` with one holding `value`.
    public mutating func replaceOrAdd(name: String, value: String) {
        fields.removeAll { $0.name.lowercased() == name.lowercased() }
        fields.append((name, value))
    }

    /// Every value of the fields called `name`, in order.
    public subscript(name: String) -> [String] {
        let lower = name.lowercased()
        return fields.filter { $0.name.lowercased() == lower }.map(\.value)
    }

    /// The value of the only field called `name`; `nil` when it is absent or repeated.
    public func single(_ name: String) -> String? {
        let values = self[name]
        return values.count == 1 ? values[0] : nil
    }

    /// The elements of a comma-separated list header over all its lines (RFC 9110 §5.6.1), trimmed, empty ones dropped.
    public func list(_ name: String) -> [String] {
        self[name].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingHTTPWhitespace() }
            .filter { !$0.isEmpty }
    }

    /// Whether the list header `name` holds `token`, compared without case.
    public func listContains(_ name: String, token: String) -> Bool {
        list(name).contains { $0.lowercased() == token.lowercased() }
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces and tabs (RFC 9110 §5.6.3 OWS).
    public func trimmingHTTPWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return String(s)
    }
}
