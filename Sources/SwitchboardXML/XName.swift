/// An expanded XML name: a namespace URI (none for an unqualified name) and a local part.
///
/// Names compare by namespace and local part only; the prefix a document used is
/// not part of the name (Namespaces in XML 1.0 §6), so `soap:Envelope` and
/// `env:Envelope` bound to one URI are the same name.
public struct XName: Sendable, Hashable, CustomStringConvertible {
    /// The namespace URI, or `nil` for a name in no namespace.
    public var namespace: String?
    /// The local part.
    public var local: String

    public init(_ local: String, namespace: String? = nil) {
        self.local = local
        self.namespace = namespace
    }

    /// `{namespace}local`, James Clark's notation.
    public var description: String { namespace.map { "{\($0)}\(local)" } ?? local }
}
