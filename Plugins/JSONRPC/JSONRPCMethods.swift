import SwitchboardJSON

/// The methods one end serves, by name, with typed parameters and results.
///
/// ```swift
/// struct Subtract: Decodable { var minuend: Int; var subtrahend: Int }
///
/// var methods = JSONRPCMethods()
/// // {"params": [42, 23]} and {"params": {"minuend": 42, "subtrahend": 23}} both work.
/// methods.register("subtract", parameters: ["minuend", "subtrahend"]) { (p: Subtract, _) in
///     p.minuend - p.subtrahend
/// }
/// methods.register("sum") { (numbers: [Int], _) in numbers.reduce(0, +) }
/// methods.register("get_data") { _ in ["hello", 5] as JSONValue }
/// ```
///
/// Any method can be called as a notification (without an id); its result is
/// then dropped and nothing is answered, not even an error (§4.1).
/// The second argument of every method is the ``JSONRPCPeer`` that called:
/// a method can call or notify it back.
public struct JSONRPCMethods: Sendable {
    /// Decodes the parameters, runs the method, encodes the result.
    typealias Method = @Sendable (_ params: JSONValue?, _ peer: JSONRPCPeer) async throws -> [UInt8]

    private var methods: [String: Method] = [:]

    public init() {}

    /// Registers `method`, replacing any method of that name.
    ///
    /// - Parameters:
    ///   - method: the name peers call it by.
    ///   - parameters: the names of the parameters in positional order. When
    ///     given, an array of parameters is paired with these names and then
    ///     decoded as if sent by name; extra positions are `-32602`, missing ones
    ///     decode as absent (so they may be optionals). When `nil`, an array is
    ///     decoded as it is, for `Params` such as `[Int]`.
    ///   - body: the method. Throw a ``JSONRPCError`` to answer with it.
    ///
    /// Names beginning with `rpc.` are reserved by the specification (§4) and trap.
    public mutating func register<Params: Decodable & Sendable, Result: Encodable & Sendable>(
        _ method: String, parameters: [String]? = nil,
        _ body: @escaping @Sendable (Params, JSONRPCPeer) async throws -> Result
    ) {
        precondition(!method.hasPrefix("rpc."), "JSON-RPC 2.0 §4 reserves method names beginning with 'rpc.': \(method)")
        let decoding = ParameterDecoding(names: parameters)
        methods[method] = { params, peer in
            let decoded = try decoding.decode(Params.self, from: params)
            let result = try await body(decoded, peer)
            return try JSONCoding.encode(result)
        }
    }

    /// Registers a method that returns nothing (its result is `null`), typically one
    /// called as a notification, such as `update`.
    public mutating func register<Params: Decodable & Sendable>(
        _ method: String, parameters: [String]? = nil,
        _ body: @escaping @Sendable (Params, JSONRPCPeer) async throws -> Void
    ) {
        register(method, parameters: parameters) { (params: Params, peer) -> JSONValue in
            try await body(params, peer)
            return .null
        }
    }

    /// Registers a method that takes no parameters: any it is sent are `-32602`.
    public mutating func register<Result: Encodable & Sendable>(
        _ method: String, _ body: @escaping @Sendable (JSONRPCPeer) async throws -> Result
    ) {
        register(method, parameters: []) { (_: NoParameters, peer) in try await body(peer) }
    }

    func method(named name: String) -> Method? { methods[name] }
}

/// What a method without parameters accepts: nothing, `[]` or `{}`.
private struct NoParameters: Decodable, Sendable {
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        if let extra = container.allKeys.first {
            throw DecodingError.dataCorruptedError(forKey: extra, in: container, debugDescription: "this method takes no parameters")
        }
    }
}
