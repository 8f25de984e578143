extension JSONValue {
    /// Whether this can be an id: a string, a number or null (§4).
    var isValidID: Bool {
        switch self {
        case .string, .integer, .double, .null: return true
        case .bool, .array, .object: return false
        }
    }
}
