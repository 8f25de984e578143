/// The WS-Addressing 1.0 message addressing properties this module reads and writes
/// (WS-Addressing Core §3, SOAP Binding §2): what lets several requests share one socket,
/// each answer naming the request it answers.
struct Addressing: Equatable {
    static let namespace = "http://www.w3.org/2005/08/addressing"
    /// The reply endpoint "answer on the connection the request came on".
    static let anonymous = "http://www.w3.org/2005/08/addressing/anonymous"
    /// The reply endpoint "send no reply".
    static let none = "http://www.w3.org/2005/08/addressing/none"
    /// The action of a fault that names no action of its own (SOAP Binding §6).
    static let faultAction = "http://www.w3.org/2005/08/addressing/fault"

    /// The header blocks this module processes, and so understands when marked `mustUnderstand`.
    static let understoodHeaders: Set<XName> = Set(["Action", "MessageID", "RelatesTo", "To", "ReplyTo", "FaultTo", "From"].map(name))

    var action: String?
    var messageID: String?
    var relatesTo: String?
    var to: String?
    var replyTo: String?

    static func name(_ local: String) -> XName { XName(local, namespace: namespace) }

    init(action: String? = nil, messageID: String? = nil, relatesTo: String? = nil, to: String? = nil) {
        self.action = action
        self.messageID = messageID
        self.relatesTo = relatesTo
        self.to = to
    }

    init(headers: [XElement]) {
        for header in headers where header.name.namespace == Self.namespace {
            switch header.name.local {
            case "Action": action = header.text.trimmingXMLWhitespace()
            case "MessageID": messageID = header.text.trimmingXMLWhitespace()
            // A RelatesTo of another relationship type than Reply is not an answer (Core §3.1).
            case "RelatesTo" where (header.attribute(XName("RelationshipType")) ?? "\(Self.namespace)/reply") == "\(Self.namespace)/reply":
                relatesTo = header.text.trimmingXMLWhitespace()
            case "To": to = header.text.trimmingXMLWhitespace()
            case "ReplyTo": replyTo = header.element(Self.name("Address"))?.text.trimmingXMLWhitespace()
            default: break
            }
        }
    }

    /// Whether the sender asked that nothing be sent back.
    var wantsNoReply: Bool { replyTo == Self.none }

    /// The properties as header blocks.
    var headerBlocks: [XElement] {
        var blocks: [XElement] = []  // the envelope declares the wsa prefix
        if let to { blocks.append(XElement(Self.name("To"), text: to)) }
        if let action { blocks.append(XElement(Self.name("Action"), text: action)) }
        if let messageID { blocks.append(XElement(Self.name("MessageID"), text: messageID)) }
        if let relatesTo { blocks.append(XElement(Self.name("RelatesTo"), text: relatesTo)) }
        return blocks
    }
}
