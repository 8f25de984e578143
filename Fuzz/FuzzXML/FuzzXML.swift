import FuzzDriver

@testable import SOAP
@testable import SwitchboardXML

/// The XML parser (SOAP's limits and XMPP's, comments refused), the writer by round trip,
/// the Codable decoder, and SOAP's envelope and fault readers over whatever parses.
@_cdecl("FuzzXML_main")
public func fuzzXMLMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    switchboard_fuzz_main(argc, argv, fuzzXML)
}

private let soapLimits = SOAPConfiguration().xmlLimits
private let xmppLimits = XMLLimits(maxDepth: 16, maxAttributesPerElement: 16, maxNamespaceDeclarations: 16, allowsComments: false)

func fuzzXML(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start = data else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    _ = try? XMLParser.parse(bytes, limits: xmppLimits)
    guard let root = try? XMLParser.parse(bytes, limits: soapLimits) else { return 0 }
    // What was read, written and read again, is the same element (declarations may move).
    var written: [UInt8] = []
    XMLWriter.write(root, to: &written)
    let loose = XMLLimits(maxDepth: soapLimits.maxDepth, maxAttributesPerElement: 4096, maxNamespaceDeclarations: 1 << 20, allowsComments: true)
    let again = written.withUnsafeBytes { try? XMLParser.parse($0, limits: loose) }
    precondition(again.map { sameContent($0, root) } == true, "written XML does not parse back to the same element")
    _ = try? XElementDecoder.decode(Shape.self, from: root)
    for version in SOAPVersion.allCases {
        guard let envelope = try? SOAPEnvelope.read(root, expecting: version) else { continue }
        _ = Addressing(headers: envelope.headers)
        if let first = envelope.body.first { _ = SOAPFault(first, version: version, scope: envelope.bodyScope) }
    }
    return 0
}

struct Shape: Decodable {
    var name: String
    var sizes: [UInt8]?
    var nested: [Shape]?
    var flag: Bool?
    var ratio: Double?
}

/// Equal names, attributes and children; namespace declarations aside.
func sameContent(_ a: XElement, _ b: XElement) -> Bool {
    guard a.name == b.name, a.attributes == b.attributes, a.children.count == b.children.count else { return false }
    return zip(a.children, b.children).allSatisfy { pair in
        switch pair {
        case (.text(let x), .text(let y)): return x == y
        case (.element(let x), .element(let y)): return sameContent(x, y)
        default: return false
        }
    }
}
