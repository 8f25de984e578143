/// One attribute of an ``XElement``: its expanded name and its value, with
/// references already replaced.
public struct XAttribute: Sendable, Hashable {
    public var name: XName
    public var value: String

    public init(_ name: XName, _ value: String) {
        self.name = name
        self.value = value
    }
}
