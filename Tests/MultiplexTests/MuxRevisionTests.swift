import Testing

@testable import Multiplex

@Suite struct MuxRevisionTests {
    @Test func tokens() {
        #expect(MuxRevision.draft06.token == "mux_DO_NOT_USE")  // mod_pywebsocket 0.7.9 common.MUX_EXTENSION
        #expect(MuxRevision.draft11.token == "mux")
        #expect(MuxRevision(token: "mux") == .draft11)
        #expect(MuxRevision(token: "mux_DO_NOT_USE") == .draft06)
        #expect(MuxRevision(token: "MUX") == nil)  // extension tokens are compared exactly
        #expect(MuxRevision(token: "permessage-deflate") == nil)
    }
}
