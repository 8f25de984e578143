/// The header fields of a handshake request or response, in order, names compared without case (RFC 9110 §5.1).
public struct HandshakeHeaders: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var fields: [(name: String, value: String)]

    public init(_ fields: [(name: String, value: String)] = []) { self.fields = fields }
    public init(dictionaryLiteral elements: (String, String)...) { self.fields = elements.map { (name: $0.0, value: $0.1) } }

    public static func == (l: Self, r: Self) -> Bool { l.fields.elementsEqual(r.fields) { $0 == $1 } }
    public func hash(into h: inout Hasher) {
        for f in fields {
            h.combine(f.name)
            h.combine(f.value)
        }
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }

    public mutating func add(name: String, value: String) { fields.append((name, value)) }

    // Names are compared byte by byte, ASCII letters without case: no lowercased copies, which
    // cost a server handshake dozens of heap allocations (`switchboard-microbench handshake`).

    /// Replaces every field called `name` with one holding `value`.
    public mutating func replaceOrAdd(name: String, value: String) {
        fields.removeAll { $0.name.equalsIgnoringASCIICase(name) }
        fields.append((name, value))
    }

    /// Every value of the fields called `name`, in order.
    public subscript(name: String) -> [String] {
        var values: [String] = []
        for field in fields where field.name.equalsIgnoringASCIICase(name) { values.append(field.value) }
        return values
    }

    /// The value of the only field called `name`; `nil` when it is absent or repeated.
    public func single(_ name: String) -> String? {
        var found: String?
        for field in fields where field.name.equalsIgnoringASCIICase(name) {
            if found != nil { return nil }
            found = field.value
        }
        return found
    }

    /// The elements of a comma-separated list header over all its lines (RFC 9110 §5.6.1), trimmed, empty ones dropped.
    public func list(_ name: String) -> [String] {
        var elements: [String] = []
        forEachListElement(name) {
            elements.append(String($0))
            return true
        }
        return elements
    }

    /// Whether the list header `name` holds `token`, compared without case.
    public func listContains(_ name: String, token: String) -> Bool {
        var found = false
        forEachListElement(name) { element in
            found = element.equalsIgnoringASCIICase(token)
            return !found
        }
        return found
    }

    /// Calls `body` with each non-empty, trimmed element of the list header `name`, in order,
    /// until it returns `false`. Views into the values: nothing is copied.
    private func forEachListElement(_ name: String, _ body: (Substring) -> Bool) {
        for field in fields where field.name.equalsIgnoringASCIICase(name) {
            var rest = Substring(field.value)
            while !rest.isEmpty {
                // By UTF-8 code unit: `Substring.firstIndex(of:)` searches by `Character`.
                let comma = rest.utf8.firstIndex(of: UInt8(ascii: ",")) ?? rest.endIndex
                let element = rest[..<comma].trimmingHTTPWhitespaceView()
                if !element.isEmpty, !body(element) { return }
                rest = comma == rest.endIndex ? rest[comma...] : rest[rest.index(after: comma)...]
            }
        }
    }
}

extension StringProtocol {
    /// Whether the two are equal with ASCII letters compared without case (header names and
    /// tokens are ASCII, RFC 9110 §5.1); other bytes must match exactly.
    ///
    /// Inlinable, so that each caller gets it specialized for its two string types: called
    /// across modules as a generic function, every byte went through `zip` with witness
    /// tables and metadata lookups, which was 3% of a server's CPU under a handshake load.
    @inlinable
    public func equalsIgnoringASCIICase(_ other: some StringProtocol) -> Bool {
        let a = utf8
        let b = other.utf8
        guard a.count == b.count else { return false }
        var j = b.startIndex
        for x in a {
            let y = b[j]
            b.formIndex(after: &j)
            guard x == y || (x | 0x20 == y | 0x20 && (x | 0x20) >= 0x61 && (x | 0x20) <= 0x7A) else { return false }
        }
        return true
    }

    /// The string without leading and trailing spaces and tabs, as a view (no copy).
    func trimmingHTTPWhitespaceView() -> Substring {
        // By UTF-8 code unit: `first` and `removeFirst()` would work by `Character`, with grapheme-break checks.
        let whole = Substring(self)
        let bytes = whole.utf8
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start != end, bytes[start] == 32 || bytes[start] == 9 { start = bytes.index(after: start) }
        while start != end {
            let last = bytes.index(before: end)
            guard bytes[last] == 32 || bytes[last] == 9 else { break }
            end = last
        }
        return whole[start..<end]
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces and tabs (RFC 9110 §5.6.3 OWS).
    public func trimmingHTTPWhitespace() -> String { String(trimmingHTTPWhitespaceView()) }
}
