/// One JSON value a peer sent (a whole message, or one member of a batch), classified by §4-§5.
enum IncomingMessage: Sendable {
    case call(IncomingCall)
    /// The answer to one of our calls.
    case response(id: JSONValue, outcome: Result<JSONValue, JSONRPCError>)
    /// A request that breaks the rules: answered `-32600`, with `id` when it could be read (null otherwise).
    case invalid(id: JSONValue, reason: String)
    /// A malformed response: it must not be answered (that could loop between two peers), only logged.
    case ignored(reason: String)

    init(_ value: JSONValue) {
        guard case .object(let members) = value else {
            self = .invalid(id: .null, reason: "a request must be an object")
            return
        }
        let id = members["id"]
        let validID = id.flatMap { $0.isValidID ? $0 : nil }
        let versionOK = members["jsonrpc"] == .string("2.0")

        if let method = members["method"] {
            let problem: String?
            if !versionOK {
                problem = "\"jsonrpc\" must be \"2.0\""
            } else if method.stringValue == nil {
                problem = "\"method\" must be a string"
            } else if let params = members["params"], params.arrayValue == nil && params.objectValue == nil {
                problem = "\"params\" must be an array or an object"
            } else if id != nil && validID == nil {
                problem = "\"id\" must be a string, a number or null"
            } else {
                problem = nil
            }
            if let problem {
                self = .invalid(id: validID ?? .null, reason: problem)
            } else {
                self = .call(IncomingCall(method: method.stringValue!, params: members["params"], id: id))
            }
            return
        }

        let result = members["result"]
        let error = members["error"]
        guard result != nil || error != nil else {
            self = .invalid(id: validID ?? .null, reason: "neither a request (no \"method\") nor a response")
            return
        }
        guard versionOK, let validID, (result == nil) != (error == nil) else {
            self = .ignored(reason: "malformed response")
            return
        }
        if let result {
            self = .response(id: validID, outcome: .success(result))
        } else if let rpcError = JSONRPCError(json: error!) {
            self = .response(id: validID, outcome: .failure(rpcError))
        } else {
            self = .ignored(reason: "malformed error object")
        }
    }
}
