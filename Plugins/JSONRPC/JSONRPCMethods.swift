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
///
/// A method whose body does not `await` (the first three above) runs at once, in the task
/// that reads the connection, as its message arrives: no task of its own, which takes 40%
/// off a small call's cost. Calls to it are answered in the order they came, and while it
/// runs the connection reads nothing else, so keep it short. A method that awaits runs in a
/// task of its own, concurrently with the others, at most
/// ``JSONRPCConfiguration/maxConcurrentCalls`` at once, and is answered when it finishes.
public struct JSONRPCMethods: Sendable {
    /// Decodes the parameters, runs the method, encodes the result.
    enum Method: Sendable {
        /// Runs in the reading task, as the call arrives.
        case immediate(@Sendable (_ params: JSONValue?, _ peer: JSONRPCPeer) throws -> [UInt8])
        /// Runs in a task of its own.
        case awaiting(@Sendable (_ params: JSONValue?, _ peer: JSONRPCPeer) async throws -> [UInt8])
    }

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
        let decoding = Self.checked(method, parameters)
        methods[method] = .awaiting { params, peer in
            try JSONCoding.encode(try await body(decoding.decode(Params.self, from: params), peer))
        }
    }

    /// Registers a method that answers without waiting: it runs as its call arrives, with no
    /// task of its own (see ``JSONRPCMethods``). The parameters are those of the method that awaits.
    public mutating func register<Params: Decodable & Sendable, Result: Encodable & Sendable>(
        _ method: String, parameters: [String]? = nil,
        _ body: @escaping @Sendable (Params, JSONRPCPeer) throws -> Result
    ) {
        let decoding = Self.checked(method, parameters)
        methods[method] = .immediate { params, peer in
            try JSONCoding.encode(try body(decoding.decode(Params.self, from: params), peer))
        }
    }

    /// Registers a method that returns nothing (its result is `null`), typically one
    /// called as a notification, such as `update`.
    public mutating func register<Params: Decodable & Sendable>(
        _ method: String, parameters: [String]? = nil,
        _ body: @escaping @Sendable (Params, JSONRPCPeer) async throws -> Void
    ) {
        register(method, parameters: parameters) { (params: Params, peer) async throws -> JSONValue in
            try await body(params, peer)
            return .null
        }
    }

    /// Registers a method that returns nothing and answers without waiting.
    public mutating func register<Params: Decodable & Sendable>(
        _ method: String, parameters: [String]? = nil,
        _ body: @escaping @Sendable (Params, JSONRPCPeer) throws -> Void
    ) {
        register(method, parameters: parameters) { (params: Params, peer) throws -> JSONValue in
            try body(params, peer)
            return .null
        }
    }

    /// Registers a method that takes no parameters: any it is sent are `-32602`.
    public mutating func register<Result: Encodable & Sendable>(
        _ method: String, _ body: @escaping @Sendable (JSONRPCPeer) async throws -> Result
    ) {
        register(method, parameters: []) { (_: NoParameters, peer) async throws in try await body(peer) }
    }

    /// Registers a method that takes no parameters and answers without waiting.
    public mutating func register<Result: Encodable & Sendable>(
        _ method: String, _ body: @escaping @Sendable (JSONRPCPeer) throws -> Result
    ) {
        register(method, parameters: []) { (_: NoParameters, peer) throws in try body(peer) }
    }

    /// How `method`'s parameters are decoded; traps on a name the specification reserves.
    private static func checked(_ method: String, _ parameters: [String]?) -> ParameterDecoding {
        precondition(!method.hasPrefix("rpc."), "JSON-RPC 2.0 §4 reserves method names beginning with 'rpc.': \(method)")
        return ParameterDecoding(names: parameters)
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
