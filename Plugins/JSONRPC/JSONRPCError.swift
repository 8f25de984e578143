/// A JSON-RPC error object (§5.1): what a method throws to fail a call, and
/// what ``JSONRPCPeer/call(_:_:as:timeout:)`` throws when the peer answers with one.
///
/// A method that throws any other error answers `-32603 Internal error`
/// without its description, so internal details do not leak to the peer;
/// throw a `JSONRPCError` to choose what the caller sees. Codes from -32768
/// to -32000 are reserved by the specification; applications use others.
public struct JSONRPCError: Error, Sendable, Hashable {
    public var code: Int
    /// One short sentence.
    public var message: String
    /// Anything more the caller may need; omitted from the error object when `nil`.
    public var data: JSONValue?

    public init(code: Int, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    // The predefined errors (§5.1) carry exactly the code and message of the
    // specification's examples; a limit of this implementation that was hit
    // is named in `data`, since nothing in the request itself was wrong.

    /// `-32700`: the message is not JSON.
    public static let parseError = JSONRPCError(code: -32700, message: "Parse error")

    /// `-32600`: JSON, but not a valid request.
    public static let invalidRequest = JSONRPCError(code: -32600, message: "Invalid Request")

    /// `-32601`: no such method here.
    public static let methodNotFound = JSONRPCError(code: -32601, message: "Method not found")

    /// `-32602`: the parameters do not fit the method; the message names the one that failed.
    public static func invalidParams(_ detail: String) -> JSONRPCError {
        JSONRPCError(code: -32602, message: "Invalid params: \(detail)")
    }

    /// `-32603`: the method failed for a reason the caller cannot fix.
    public static let internalError = JSONRPCError(code: -32603, message: "Internal error")

    /// `-32000` (the specification's range for implementation-defined server errors):
    /// the connection runs as many background tasks as ``JSONRPCConfiguration/maxBackgroundTasks`` allows.
    public static let tooManyBackgroundTasks = JSONRPCError(code: -32000, message: "Too many background tasks")
}

extension JSONRPCError: CustomStringConvertible {
    public var description: String {
        "JSON-RPC error \(code): \(message)" + (data.map { " (\($0))" } ?? "")
    }
}

extension JSONRPCError {
    /// The error object as JSON (§5.1).
    var json: JSONValue {
        var members: [String: JSONValue] = ["code": .integer(code), "message": .string(message)]
        if let data { members["data"] = data }
        return .object(members)
    }

    /// This error with `detail` as its data.
    func with(data detail: String) -> JSONRPCError {
        JSONRPCError(code: code, message: message, data: .string(detail))
    }

    /// Reads an error object a peer sent; `nil` if it is not one.
    init?(json: JSONValue) {
        guard let members = json.objectValue, case .integer(let code)? = members["code"],
            case .string(let message)? = members["message"]
        else { return nil }
        self.init(code: code, message: message, data: members["data"])
    }
}
