import SwitchboardJSON

/// How a method reads its parameters (§4.2): by name from an object, or by
/// position from an array, into one `Decodable` type.
///
/// With `names`, an array is first paired with them (`[42, 23]` with
/// `["minuend", "subtrahend"]` is `{"minuend": 42, "subtrahend": 23}`), so one
/// struct serves both forms. Without, the array itself is decoded (`[Int]`).
/// Every failure is a `-32602` whose message names the parameter.
struct ParameterDecoding: Sendable {
    let names: [String]?

    func decode<Params: Decodable>(_ type: Params.Type, from params: JSONValue?) throws(JSONRPCError) -> Params {
        switch params {
        case nil:
            // Omitted params (§4.2 allows it) read as an empty object, or else an empty array.
            do { return try decodeReporting(type, from: .object([:])) } catch let error {
                if names == nil, let value = try? decodeReporting(type, from: .array([])) { return value }
                throw error
            }
        case .array(let values)? where names != nil:
            let names = names!
            guard values.count <= names.count else {
                throw .invalidParams(
                    names.isEmpty
                        ? "this method takes no parameters, got \(values.count)"
                        : "expected at most \(names.count) by position (\(names.joined(separator: ", "))), got \(values.count)")
            }
            return try decodeReporting(type, from: .object(Dictionary(uniqueKeysWithValues: zip(names, values))))
        case let value?:
            return try decodeReporting(type, from: value)
        }
    }

    private func decodeReporting<Params: Decodable>(_ type: Params.Type, from json: JSONValue) throws(JSONRPCError) -> Params {
        do {
            return try JSONCoding.decode(type, from: json)
        } catch let error as DecodingError {
            throw .invalidParams(Self.describe(error))
        } catch {
            throw .invalidParams("\(error)")
        }
    }

    /// Which parameter failed and how, in a few words.
    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "missing '\(path(context.codingPath + [key]))'"
        case .valueNotFound(_, let context):
            return "'\(path(context.codingPath))' must not be null"
        case .typeMismatch(_, let context):
            return "wrong type for '\(path(context.codingPath))' (\(context.debugDescription))"
        case .dataCorrupted(let context):
            return "invalid '\(path(context.codingPath))' (\(context.debugDescription))"
        @unknown default:
            return "\(error)"
        }
    }

    /// `minuend`, `point.x`, `params[0]`; `params` for the whole.
    static func path(_ keys: [any CodingKey]) -> String {
        var text = ""
        for key in keys {
            if let index = key.intValue {
                if text.isEmpty { text = "params" }
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text.isEmpty ? "params" : text
    }
}
