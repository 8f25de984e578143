/// The bounds the parser holds a document to, so that what a peer sends costs memory and
/// time in proportion to its size, never more.
///
/// The size of a document is bounded by whoever hands the bytes over (the message size
/// limit); these bound its shape.
package struct XMLLimits: Sendable, Hashable {
    /// How deeply elements may nest. Real envelopes and stanzas nest about ten levels.
    package var maxDepth: Int
    /// The most attributes (namespace declarations included) on one element.
    package var maxAttributesPerElement: Int
    /// The most namespace declarations in one document.
    package var maxNamespaceDeclarations: Int
    /// Whether comments are allowed (XMPP forbids them, RFC 6120 §11.1; SOAP does not).
    package var allowsComments: Bool

    package init(maxDepth: Int, maxAttributesPerElement: Int, maxNamespaceDeclarations: Int, allowsComments: Bool) {
        precondition(maxDepth > 0 && maxAttributesPerElement > 0 && maxNamespaceDeclarations > 0, "XML limits must be positive")
        self.maxDepth = maxDepth
        self.maxAttributesPerElement = maxAttributesPerElement
        self.maxNamespaceDeclarations = maxNamespaceDeclarations
        self.allowsComments = allowsComments
    }
}
