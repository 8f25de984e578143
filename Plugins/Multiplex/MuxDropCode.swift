/// The reason code of a DropChannel control block.
///
/// 1000-1999 close normally; 2000-2999 fail the whole physical connection
/// (they are sent with channel ID 0); 3000-3999 fail one logical channel;
/// 4000-4999 ask the peer to do something else. The codes are those of the
/// drafts' table (revision 05 onwards, unchanged up to 11 as far as the
/// implementations show; see `docs/multiplexing.md`).
package struct MuxDropCode: Hashable, Sendable, CustomStringConvertible {
    package let rawValue: UInt16
    package init(_ rawValue: UInt16) { self.rawValue = rawValue }

    /// 1000: the channel closed normally.
    package static let normalClosure = MuxDropCode(1000)

    /// 2000: the physical connection failed for a reason no other code names.
    package static let physicalConnectionFailed = MuxDropCode(2000)
    /// 2001: a text message (or other non-binary message) on the physical connection.
    package static let invalidEncapsulatingMessage = MuxDropCode(2001)
    /// 2002: a message too short to hold its channel ID.
    package static let channelIDTruncated = MuxDropCode(2002)
    /// 2003: a message on a logical channel with no frame header byte after the channel ID.
    package static let encapsulatedFrameTruncated = MuxDropCode(2003)
    /// 2004: a control block with an opcode this revision does not define (5-7).
    package static let unknownMuxOpcode = MuxDropCode(2004)
    /// 2005: a control block that is cut short, sets a reserved bit, or holds a bad field.
    package static let invalidMuxControlBlock = MuxDropCode(2005)
    /// 2006: an AddChannelRequest for a channel that is open (or for the control channel).
    package static let channelAlreadyExists = MuxDropCode(2006)
    /// 2007: an AddChannelRequest with no channel slot left.
    package static let newChannelSlotViolation = MuxDropCode(2007)
    /// 2008: NewChannelSlot grants more slots than can be counted.
    package static let newChannelSlotOverflow = MuxDropCode(2008)
    /// 2009: an AddChannelRequest whose handshake is not a valid request.
    package static let badRequest = MuxDropCode(2009)
    /// 2010: an AddChannelRequest with a handshake encoding other than identity or delta.
    package static let unknownRequestEncoding = MuxDropCode(2010)
    /// 2011: an AddChannelResponse whose handshake is not a valid response.
    package static let badResponse = MuxDropCode(2011)
    /// 2012: an AddChannelResponse with a handshake encoding other than identity or delta.
    package static let unknownResponseEncoding = MuxDropCode(2012)

    /// 3000: a logical channel failed for a reason no other code names.
    package static let logicalChannelFailed = MuxDropCode(3000)
    /// 3005: the peer sent more on a channel than its send quota allowed.
    package static let sendQuotaViolation = MuxDropCode(3005)
    /// 3006: FlowControl pushed a send quota past 2^63 - 1.
    package static let sendQuotaOverflow = MuxDropCode(3006)
    /// 3007: the channel was idle too long.
    package static let idleTimeout = MuxDropCode(3007)
    /// 3008: the answer to a DropChannel (the channel was dropped by the peer).
    package static let dropChannelAcknowledged = MuxDropCode(3008)
    /// 3009: logical frames that break fragmentation rules (RFC 6455 §5.4) on one channel.
    package static let badFragmentation = MuxDropCode(3009)

    /// 4001: open this channel on another physical connection.
    package static let useAnotherPhysicalConnection = MuxDropCode(4001)
    /// 4002: the peer is busy; try later.
    package static let busy = MuxDropCode(4002)

    /// Whether the code fails the whole physical connection (2000-2999).
    package var failsPhysicalConnection: Bool { (2000...2999).contains(rawValue) }
    /// Whether the code fails a single logical channel (3000-3999).
    package var failsLogicalChannel: Bool { (3000...3999).contains(rawValue) }

    package var description: String { String(rawValue) }
}
