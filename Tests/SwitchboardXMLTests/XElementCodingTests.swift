import SwitchboardXML
import Testing

private let ns = "urn:test"

private struct Order: Codable, Equatable {
    struct Line: Codable, Equatable {
        var sku: String
        var quantity: Int
    }
    var id: Int64
    var note: String?
    var paid: Bool
    var total: Double
    var lines: [Line]
    var tags: [String]
}

@Suite struct XElementCodingTests {
    @Test func roundTripDocumentLiteral() throws {
        let order = Order(
            id: 42, note: nil, paid: true, total: 12.5, lines: [.init(sku: "a<b", quantity: 2), .init(sku: "c", quantity: -1)], tags: ["x", "y"])
        let element = try XElementEncoder.encode(order, as: XName("Order", namespace: ns))
        let written = XMLWriter.string(element)
        #expect(written.hasPrefix(#"<Order xmlns="urn:test"><id>42</id><paid>true</paid><total>12.5</total><lines><sku>a&lt;b</sku>"#))
        #expect(!written.contains("note"))  // nil is left out
        #expect(written.contains("<tags>x</tags><tags>y</tags>"))
        let parsed = try XMLParser.parse(
            Array(written.utf8), limits: XMLLimits(maxDepth: 8, maxAttributesPerElement: 8, maxNamespaceDeclarations: 8, allowsComments: true))
        #expect(try XElementDecoder.decode(Order.self, from: parsed) == order)
    }

    @Test func decodingIsLenientAboutQualificationAndExtraElementsStrictAboutValues() throws {
        let xml = "<Order><id> +7 </id><paid>1</paid><total>INF</total><extra/><tags/></Order>"
        let parsed = try XMLParser.parse(
            Array(xml.utf8), limits: XMLLimits(maxDepth: 8, maxAttributesPerElement: 8, maxNamespaceDeclarations: 8, allowsComments: true))
        let order = try XElementDecoder.decode(Order.self, from: parsed)
        #expect(order.id == 7 && order.paid && order.total == .infinity && order.lines.isEmpty && order.tags == [""])

        let bad = try XMLParser.parse(
            Array("<Order><id>x</id></Order>".utf8),
            limits: XMLLimits(maxDepth: 8, maxAttributesPerElement: 8, maxNamespaceDeclarations: 8, allowsComments: true))
        #expect(throws: DecodingError.self) { try XElementDecoder.decode(Order.self, from: bad) }
        let missing = try XMLParser.parse(
            Array("<Order><paid>true</paid></Order>".utf8),
            limits: XMLLimits(maxDepth: 8, maxAttributesPerElement: 8, maxNamespaceDeclarations: 8, allowsComments: true))
        #expect(throws: DecodingError.self) { try XElementDecoder.decode(Order.self, from: missing) }
    }

    @Test func schemaOfACodableType() throws {
        let schema = try XMLSchemaRecorder.describe(Order.self)
        guard case .sequence(let fields) = schema else {
            Issue.record("not a sequence: \(schema)")
            return
        }
        #expect(fields.map(\.name) == ["id", "note", "paid", "total", "lines", "tags"])
        #expect(fields[0].type == .builtIn("long") && !fields[0].isOptional)
        #expect(fields[1].type == .builtIn("string") && fields[1].isOptional)
        #expect(fields[2].type == .builtIn("boolean") && fields[3].type == .builtIn("double"))
        #expect(fields[4].isRepeated && fields[5].isRepeated && fields[5].type == .builtIn("string"))
        #expect(
            fields[4].type
                == .sequence([
                    XMLSchemaField(name: "sku", type: .builtIn("string"), isOptional: false, isRepeated: false),
                    XMLSchemaField(name: "quantity", type: .builtIn("long"), isOptional: false, isRepeated: false),
                ]))
    }

    @Test func recursiveTypesAreCut() throws {
        struct Tree: Codable { var children: [Tree] }
        let schema = try XMLSchemaRecorder.describe(Tree.self)
        var depth = 0
        var current = schema
        while case .sequence(let fields) = current, let first = fields.first {
            depth += 1
            current = first.type
        }
        #expect(depth > 0 && depth <= 9)

        final class Chain: Codable {
            var value = 0
            var next: Chain?
        }
        guard case .sequence(let fields) = try XMLSchemaRecorder.describe(Chain.self) else {
            Issue.record("not a sequence")
            return
        }
        #expect(fields.map(\.name) == ["value", "next"] && fields[1].isOptional)
    }
}
