import SwitchboardJSON

/// The JSON-RPC objects this end writes (§4, §5, §6), as bytes ready to send.
///
/// Results and parameters arrive already encoded and are spliced in, so a
/// typed value is encoded once and never parsed back.
enum Envelope {
    static func request(method: String, params: [UInt8]?, id: Int) -> [UInt8] {
        var out = call(method: method, params: params)
        out.append(contentsOf: #","id":"#.utf8)
        out.append(contentsOf: String(id).utf8)
        out.append(UInt8(ascii: "}"))
        return out
    }

    static func notification(method: String, params: [UInt8]?) -> [UInt8] {
        var out = call(method: method, params: params)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// A success response; `result` is encoded JSON.
    static func result(_ result: [UInt8], id: JSONValue) -> [UInt8] {
        var out = Array(#"{"jsonrpc":"2.0","result":"#.utf8)
        out.append(contentsOf: result)
        appendID(id, to: &out)
        return out
    }

    static func error(_ error: JSONRPCError, id: JSONValue) -> [UInt8] {
        var out = Array(#"{"jsonrpc":"2.0","error":"#.utf8)
        JSONWriter.write(error.json, to: &out)
        appendID(id, to: &out)
        return out
    }

    /// Responses of a batch, in one array (§6).
    static func batch(_ responses: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (offset, response) in responses.enumerated() {
            if offset > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: response)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    private static func call(method: String, params: [UInt8]?) -> [UInt8] {
        var out = Array(#"{"jsonrpc":"2.0","method":"#.utf8)
        JSONWriter.writeString(method, to: &out)
        if let params {
            out.append(contentsOf: #","params":"#.utf8)
            out.append(contentsOf: params)
        }
        return out
    }

    private static func appendID(_ id: JSONValue, to out: inout [UInt8]) {
        out.append(contentsOf: #","id":"#.utf8)
        JSONWriter.write(id, to: &out)
        out.append(UInt8(ascii: "}"))
    }
}
