/// The operations one end serves, in one target namespace, with typed inputs and outputs:
/// document/literal, the input element named after the operation and the output element
/// after the operation with `Response` appended, as WSDL's wrapped convention has it.
///
/// ```swift
/// struct Add: Codable, Sendable { var a: Int; var b: Int }
/// struct AddResponse: Codable, Sendable { var result: Int }
///
/// var operations = SOAPOperations(namespace: "urn:example:calc")
/// operations.register("Add") { (input: Add, _) in AddResponse(result: input.a + input.b) }
/// ```
///
/// An operation throws ``SOAPFault`` to answer with that fault; any other error is a
/// Receiver fault (and a warning in the log), and an input that does not decode is a
/// Sender fault naming the field. The second argument is the ``SOAPPeer`` that called: an
/// operation can call the peer's operations or send it one-way messages.
public struct SOAPOperations: Sendable {
    /// Turns the body's element into the response's element (`nil` for a one-way operation).
    typealias Run = @Sendable (_ input: XElement, _ peer: SOAPPeer) async throws -> XElement?

    struct Operation: Sendable {
        var name: String
        var input: XMLSchemaType
        /// `nil` for a one-way operation.
        var output: XMLSchemaType?
        var run: Run
        /// The untyped handler of whatever no typed operation takes.
        var isFallback = false
    }

    /// The target namespace of the operations' elements (and of the WSDL that describes them).
    public let namespace: String
    private(set) var operations: [String: Operation] = [:]
    /// Registration order, which the WSDL keeps.
    private(set) var order: [String] = []
    private(set) var fallback: Operation?

    public init(namespace: String) { self.namespace = namespace }

    /// Registers the request-response operation `name`, replacing any of that name.
    ///
    /// `Input` and `Output` describe themselves in the WSDL (their properties become
    /// elements of XML Schema built-in types; optionals `minOccurs="0"`, arrays repeated).
    public mutating func register<Input: Codable & Sendable, Output: Codable & Sendable>(
        _ name: String, _ body: @escaping @Sendable (Input, SOAPPeer) async throws -> Output
    ) {
        let outputName = XName(name + "Response", namespace: namespace)
        add(
            Operation(
                name: name, input: Self.schema(of: Input.self), output: Self.schema(of: Output.self),
                run: { element, peer in
                    let output = try await body(try Self.decode(Input.self, from: element), peer)
                    return try XElementEncoder.encode(output, as: outputName)
                }))
    }

    /// Registers the one-way operation `name`: it is never answered, not even with a fault
    /// (WSDL 1.1 §2.4.1); an error it throws is logged.
    public mutating func registerOneWay<Input: Codable & Sendable>(
        _ name: String, _ body: @escaping @Sendable (Input, SOAPPeer) async throws -> Void
    ) {
        add(
            Operation(
                name: name, input: Self.schema(of: Input.self), output: nil,
                run: { element, peer in
                    try await body(try Self.decode(Input.self, from: element), peer)
                    return nil
                }))
    }

    /// Registers what handles a body element no typed operation takes (by default: a Sender
    /// fault): a gateway, a logger of pushed messages. It returns the answer's body element,
    /// or `nil` to send none. It does not appear in the WSDL.
    public mutating func registerFallback(_ body: @escaping @Sendable (XElement, SOAPPeer) async throws -> XElement?) {
        fallback = Operation(name: "*", input: .any, output: nil, run: body, isFallback: true)
    }

    private mutating func add(_ operation: Operation) {
        if operations.updateValue(operation, forKey: operation.name) == nil { order.append(operation.name) }
    }

    /// The operation a body element asks for.
    func operation(for element: XName) -> Operation? {
        guard element.namespace == namespace else { return nil }
        return operations[element.local]
    }

    /// The operations in registration order.
    var all: [Operation] { order.compactMap { operations[$0] } }

    private static func schema<T: Decodable>(of type: T.Type) -> XMLSchemaType { (try? XMLSchemaRecorder.describe(type)) ?? .any }

    private static func decode<T: Decodable>(_ type: T.Type, from element: XElement) throws -> T {
        do {
            return try XElementDecoder.decode(type, from: element)
        } catch let error as DecodingError {
            throw SOAPFault(.sender, reason: "the \(element.name.local) element does not match its schema: \(describe(error))")
        }
    }

    /// A `DecodingError` in one line, with the path of elements where it happened.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.isEmpty ? "" : " at \(context.codingPath.map(\.stringValue).joined(separator: "/"))"
        }
        switch error {
        case .keyNotFound(let key, let context): return "no <\(key.stringValue)>\(path(context))"
        case .valueNotFound(_, let context), .typeMismatch(_, let context), .dataCorrupted(let context):
            return "\(context.debugDescription)\(path(context))"
        @unknown default: return "\(error)"
        }
    }
}
