/// A namespace declaration an element carries: `xmlns:prefix="uri"`, or `xmlns="uri"`
/// when the prefix is empty.
///
/// The parser keeps the declarations it read, so that QName-valued text (a SOAP
/// fault code such as `soap:Client`) can be resolved later; the writer declares
/// them where they are, and uses their prefixes for names in those namespaces.
public struct XNamespaceDeclaration: Sendable, Hashable {
    /// The prefix, or `""` for the default namespace.
    public var prefix: String
    /// The namespace URI; `""` undeclares the default namespace.
    public var uri: String

    public init(prefix: String, uri: String) {
        self.prefix = prefix
        self.uri = uri
    }
}
