import Testing

@testable import Multiplex

@Suite("DropChannel reason codes")
struct DropCodeTests {
    @Test("the table, by number")
    func table() {
        let table: [(MuxDropCode, UInt16)] = [
            (.normalClosure, 1000),
            (.physicalConnectionFailed, 2000), (.invalidEncapsulatingMessage, 2001), (.channelIDTruncated, 2002),
            (.encapsulatedFrameTruncated, 2003), (.unknownMuxOpcode, 2004), (.invalidMuxControlBlock, 2005),
            (.channelAlreadyExists, 2006), (.newChannelSlotViolation, 2007), (.newChannelSlotOverflow, 2008),
            (.badRequest, 2009), (.unknownRequestEncoding, 2010), (.badResponse, 2011), (.unknownResponseEncoding, 2012),
            (.logicalChannelFailed, 3000), (.sendQuotaViolation, 3005), (.sendQuotaOverflow, 3006), (.idleTimeout, 3007),
            (.dropChannelAcknowledged, 3008), (.badFragmentation, 3009),
            (.useAnotherPhysicalConnection, 4001), (.busy, 4002),
        ]
        for (code, raw) in table { #expect(code.rawValue == raw) }
    }

    @Test("2xxx fail the physical connection, 3xxx one channel")
    func scope() {
        #expect(MuxDropCode.invalidMuxControlBlock.failsPhysicalConnection)
        #expect(!MuxDropCode.invalidMuxControlBlock.failsLogicalChannel)
        #expect(MuxDropCode.sendQuotaViolation.failsLogicalChannel)
        #expect(!MuxDropCode.sendQuotaViolation.failsPhysicalConnection)
        #expect(!MuxDropCode.normalClosure.failsPhysicalConnection && !MuxDropCode.normalClosure.failsLogicalChannel)
        #expect(!MuxDropCode.busy.failsPhysicalConnection && !MuxDropCode.busy.failsLogicalChannel)
    }
}
