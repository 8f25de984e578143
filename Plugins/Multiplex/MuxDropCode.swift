/// The reason code of a DropChannel control block.
///
/// 1000-1999 close normally; 2000-2999 fail the whole physical connection
/// (they are sent with channel ID 0); 3000-3999 fail one logical channel;
/// 4000-4999 ask the peer to do something else. The codes are those of the
/// drafts' table (revision 05 onwards, unchanged up to 11 as far as the
/// implementations show; see `docs/multiplexing.md`).
public struct MuxDropCode: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    /// 1000: the channel closed normally.
    public static let normalClosure = MuxDropCode(1000)

    /// 2000: the physical connection failed for a reason no other code names.
    public static let physicalConnectionFailed = MuxDropCode(2000)
    /// 2001: a text message (or other non-binary message) on the physical connection.
    public static let invalidEncapsulatingMessage = MuxDropCode(2001)
    /// 2002: a message too short to hold its channel ID.
    public static let channelIDTruncated = MuxDropCode(2002)
    /// 2003: a message on a logical channel with no frame header byte after the channel ID.
    public static let encapsulatedFrameTruncated = MuxDropCode(2003)
    /// 2004: a control block with an opcode this revision does not define (5-7).
    public static let unknownMuxOpcode = MuxDropCode(2004)
    /// 2005: a control block that is cut short, sets a reserved bit, or holds a bad field.
    public static let invalidMuxControlBlock = MuxDropCode(2005)
    /// 2006: an AddChannelRequest for a channel that is open (or for the control channel).
    public static let channelAlreadyExists = MuxDropCode(2006)
    /// 2007: an AddChannelRequest with no channel slot left.
    public static let newChannelSlotViolation = MuxDropCode(2007)
    /// 2008: NewChannelSlot grants more slots than can be counted.
    public static let newChannelSlotOverflow = MuxDropCode(2008)
    /// 2009: an AddChannelRequest whose handshake is not a valid request.
    public static let badRequest = MuxDropCode(2009)
    /// 2010: an AddChannelRequest with a handshake encoding other than identity or delta.
    public static let unknownRequestEncoding = MuxDropCode(2010)
    /// 2011: an AddChannelResponse whose handshake is not a valid response.
    public static let badResponse = MuxDropCode(2011)
    /// 2012: an AddChannelResponse with a handshake encoding other than identity or delta.
    public static let unknownResponseEncoding = MuxDropCode(2012)

    /// 3000: a logical channel failed for a reason no other code names.
    public static let logicalChannelFailed = MuxDropCode(3000)
    /// 3005: the peer sent more on a channel than its send quota allowed.
    public static let sendQuotaViolation = MuxDropCode(3005)
    /// 3006: FlowControl pushed a send quota past 2^63 - 1.
    public static let sendQuotaOverflow = MuxDropCode(3006)
    /// 3007: the channel was idle too long.
    public static let idleTimeout = MuxDropCode(3007)
    /// 3008: the answer to a DropChannel (the channel was dropped by the peer).
    public static let dropChannelAcknowledged = MuxDropCode(3008)
    /// 3009: logical frames that break fragmentation rules (RFC 6455 §5.4) on one channel.
    public static let badFragmentation = MuxDropCode(3009)

    /// 4001: open this channel on another physical connection.
    public static let useAnotherPhysicalConnection = MuxDropCode(4001)
    /// 4002: the peer is busy; try later.
    public static let busy = MuxDropCode(4002)

    /// Whether the code fails the whole physical connection (2000-2999).
    public var failsPhysicalConnection: Bool { (2000...2999).contains(rawValue) }
    /// Whether the code fails a single logical channel (3000-3999).
    public var failsLogicalChannel: Bool { (3000...3999).contains(rawValue) }

    public var description: String { String(rawValue) }
}
