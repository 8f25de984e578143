import SwitchboardCore

/// The header arithmetic of delta-encoded AddChannelRequest handshakes.
///
/// A delta-encoded request carries a request line and only the header fields
/// that differ from the *delta base*: a field present in the delta replaces
/// every field of that name in the base; a field with an empty value removes
/// that name from the base. The base is kept by the session: the physical
/// handshake's request headers at first (with `Sec-WebSocket-Extensions`
/// holding the extensions offered for channels), replaced by the headers of
/// every accepted identity-encoded request (mod_pywebsocket 0.7.9, revision 06).
///
/// Names compare without case; a name given on several lines in the delta
/// replaces the base's lines with all of them, in order.
package enum MuxHandshakeDelta {
    /// The full header fields a delta stands for.
    package static func apply(_ delta: HandshakeHeaders, to base: HandshakeHeaders) -> HandshakeHeaders {
        var result = base
        for name in orderedNames(delta) {
            let values = delta[name]
            result.removeAll(named: name)
            if values.allSatisfy(\.isEmpty) { continue }
            for value in values { result.add(name: name, value: value) }
        }
        return result
    }

    /// The shortest delta that turns `base` into `target`, or `nil` when none
    /// can: a field with an empty value in `target` that the base does not
    /// already hold the same way cannot be written (empty means "remove").
    package static func make(from base: HandshakeHeaders, to target: HandshakeHeaders) -> HandshakeHeaders? {
        var delta = HandshakeHeaders()
        for name in orderedNames(target) where target[name] != base[name] {
            let values = target[name]
            if values.contains(where: \.isEmpty) { return nil }
            let spelling = target.first { $0.name.lowercased() == name }!.name
            for value in values { delta.add(name: spelling, value: value) }
        }
        for name in orderedNames(base) where target[name].isEmpty {
            let spelling = base.first { $0.name.lowercased() == name }!.name
            delta.add(name: spelling, value: "")
        }
        return delta
    }

    /// Each field name once, lowercased, in order of first appearance.
    private static func orderedNames(_ headers: HandshakeHeaders) -> [String] {
        var seen = Set<String>()
        return headers.map { $0.name.lowercased() }.filter { seen.insert($0).inserted }
    }
}

extension HandshakeHeaders {
    /// Removes every field called `name` (compared without case).
    fileprivate mutating func removeAll(named name: String) {
        let kept = filter { $0.name.lowercased() != name.lowercased() }
        self = HandshakeHeaders(kept)
    }
}
