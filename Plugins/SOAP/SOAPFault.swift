/// A SOAP fault: what an operation throws to answer with one, and what a call throws when
/// the peer answers with one.
///
/// The codes are SOAP 1.2's (Part 1 §5.4.6); a SOAP 1.1 connection writes them as 1.1's
/// `faultcode` (`Sender` as `Client`, `Receiver` as `Server`), and subcodes go into 1.2's
/// `Subcode` only, since 1.1 has none.
///
/// ```swift
/// operations.register("Divide") { (input: Divide, _) -> DivideResponse in
///     guard input.b != 0 else { throw SOAPFault(.sender, reason: "division by zero", subcode: XName("DivisionByZero", namespace: ns)) }
///     return DivideResponse(result: input.a / input.b)
/// }
/// ```
public struct SOAPFault: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// The envelope is not of a version this end speaks.
        case versionMismatch = "VersionMismatch"
        /// A header block marked `mustUnderstand` was not understood.
        case mustUnderstand = "MustUnderstand"
        /// An `encodingStyle` this end does not support.
        case dataEncodingUnknown = "DataEncodingUnknown"
        /// The message was wrong (1.1 `Client`): do not send it again unchanged.
        case sender = "Sender"
        /// This end failed (1.1 `Server`): the same message may succeed later.
        case receiver = "Receiver"

        /// The code's local name in `version`: 1.1 calls ``sender`` `Client` and ``receiver`` `Server`.
        public func name(in version: SOAPVersion) -> String { version == .soap11 ? soap11Name : rawValue }

        var soap11Name: String {
            switch self {
            case .sender: "Client"
            case .receiver: "Server"
            default: rawValue
            }
        }

        init?(soap11Name: String) {
            switch soap11Name {
            case "Client": self = .sender
            case "Server": self = .receiver
            default: self.init(rawValue: soap11Name)
            }
        }
    }

    public var code: Code
    /// Application-defined subcodes, outermost first (SOAP 1.2 only).
    public var subcodes: [XName]
    /// The human-readable explanation (`Reason/Text`, 1.1 `faultstring`).
    public var reason: String
    /// Application-defined detail (`Detail`, 1.1 `detail`): its child elements.
    public var detail: [XElement]
    /// For ``Code/mustUnderstand``: the header blocks that were not understood.
    public var notUnderstood: [XName]

    public init(_ code: Code, reason: String, subcode: XName? = nil, detail: [XElement] = []) {
        self.code = code
        self.reason = reason
        self.subcodes = subcode.map { [$0] } ?? []
        self.detail = detail
        self.notUnderstood = []
    }

    public var description: String {
        let sub = subcodes.isEmpty ? "" : " (\(subcodes.map(\.local).joined(separator: "/")))"
        return "SOAP fault \(code.rawValue)\(sub): \(reason)"
    }
}
