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
    /// The most elements in one document. What a document costs beyond its bytes is its
    /// tree: an empty element is 4 bytes of text (`<a/>`) and about 64 in memory, so this
    /// bounds both the memory and the time one message takes.
    package var maxElements: Int
    /// Whether comments are allowed (XMPP forbids them, RFC 6120 §11.1; SOAP does not).
    package var allowsComments: Bool

    package init(
        maxDepth: Int, maxAttributesPerElement: Int, maxNamespaceDeclarations: Int, maxElements: Int = .max, allowsComments: Bool
    ) {
        precondition(
            maxDepth > 0 && maxAttributesPerElement > 0 && maxNamespaceDeclarations > 0 && maxElements > 0, "XML limits must be positive")
        self.maxElements = maxElements
        self.maxDepth = maxDepth
        self.maxAttributesPerElement = maxAttributesPerElement
        self.maxNamespaceDeclarations = maxNamespaceDeclarations
        self.allowsComments = allowsComments
    }
}
