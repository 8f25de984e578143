/// Why bytes are not a document this layer accepts, and where.
package struct XMLParseError: Error, Hashable, CustomStringConvertible {
    package enum Kind: Sendable, Hashable {
        /// Not well-formed XML (RFC 6120 `not-well-formed`, a SOAP Sender fault).
        case notWellFormed
        /// Well-formed, but something this layer refuses on principle: a DOCTYPE, an
        /// entity other than the five predefined, a processing instruction, a comment
        /// where comments are not allowed (RFC 6120 `restricted-xml`).
        case restricted
        /// Past one of the ``XMLLimits`` (RFC 6120 `policy-violation`).
        case limit
    }

    package var kind: Kind
    package var offset: Int
    package var reason: String
    package var description: String { "\(reason) at byte \(offset)" }
}
