import SwitchboardCore

/// The four parameters of permessage-deflate (RFC 7692 §7.1), parsed and
/// checked against the rules every offer and response must follow.
struct DeflateParameters: Equatable {
    var serverNoContextTakeover = false
    var clientNoContextTakeover = false
    /// `server_max_window_bits`; always has a value (§7.1.2.1).
    var serverMaxWindowBits: Int?
    /// `client_max_window_bits`: `.some(nil)` is the value-less form, allowed only in an offer (§7.1.2.2).
    var clientMaxWindowBits: Int??

    enum Role { case offer, response }

    /// The parameter names and what each accepts (§7.1). Anything else makes
    /// the element invalid: a server declines that offer, a client fails.
    private enum Name: String {
        case serverNoContextTakeover = "server_no_context_takeover"  // §7.1.1.1: no value
        case clientNoContextTakeover = "client_no_context_takeover"  // §7.1.1.2: no value
        case serverMaxWindowBits = "server_max_window_bits"  // §7.1.2.1: value 8...15, required
        case clientMaxWindowBits = "client_max_window_bits"  // §7.1.2.2: value 8...15, optional in an offer only
    }

    /// Parses and checks an element; the string says which rule it breaks.
    init(_ element: ExtensionOffer, as role: Role) throws(ExtensionNegotiationError) {
        var seen: Set<String> = []
        for parameter in element.parameters {
            guard let name = Name(rawValue: parameter.name) else {
                throw ExtensionNegotiationError("unknown permessage-deflate parameter \(parameter.name)")  // §7.1
            }
            guard seen.insert(parameter.name).inserted else {
                throw ExtensionNegotiationError("permessage-deflate parameter \(parameter.name) given twice")  // §7.1
            }
            switch name {
            case .serverNoContextTakeover, .clientNoContextTakeover:
                guard parameter.value == nil else { throw ExtensionNegotiationError("\(parameter.name) takes no value") }
                if name == .serverNoContextTakeover { serverNoContextTakeover = true } else { clientNoContextTakeover = true }
            case .serverMaxWindowBits:
                serverMaxWindowBits = try Self.windowBits(parameter)
            case .clientMaxWindowBits:
                if parameter.value == nil {
                    guard role == .offer else { throw ExtensionNegotiationError("client_max_window_bits needs a value in a response") }
                    clientMaxWindowBits = .some(nil)
                } else {
                    clientMaxWindowBits = .some(try Self.windowBits(parameter))
                }
            }
        }
    }

    init() {}

    /// A window size: 1*DIGIT without leading zeros, 8 to 15 (§7.1.2.1, §7.1.2.2).
    private static func windowBits(_ parameter: ExtensionOffer.Parameter) throws(ExtensionNegotiationError) -> Int {
        guard let text = parameter.value, !text.hasPrefix("0"), !text.isEmpty,
            text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let bits = Int(text), (8...15).contains(bits)
        else {
            throw ExtensionNegotiationError("\(parameter.name) must be 8 to 15, not \(parameter.value ?? "empty")")
        }
        return bits
    }

    /// The element carrying these parameters.
    func element(token: String) -> ExtensionOffer {
        var parameters: [ExtensionOffer.Parameter] = []
        if serverNoContextTakeover { parameters.append(.init(Name.serverNoContextTakeover.rawValue)) }
        if clientNoContextTakeover { parameters.append(.init(Name.clientNoContextTakeover.rawValue)) }
        if let bits = serverMaxWindowBits { parameters.append(.init(Name.serverMaxWindowBits.rawValue, String(bits))) }
        if let bits = clientMaxWindowBits { parameters.append(.init(Name.clientMaxWindowBits.rawValue, bits.map(String.init))) }
        return ExtensionOffer(token, parameters)
    }
}
