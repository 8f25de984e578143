/// A child of an ``XElement``: an element or character data.
///
/// Comments are dropped by the parser, and CDATA sections become text: neither
/// carries meaning for the protocols built on this layer.
public enum XNode: Sendable, Hashable {
    case element(XElement)
    case text(String)
}
