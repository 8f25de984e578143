import Logging

extension MuxSession {
    /// How many channel events a peer causes on one connection before they are logged at debug.
    /// 32: enough to see what a misbehaving client does; one physical message can carry thousands
    /// of channel requests, and a line at info for each would let a client fill a disk.
    static let peerEventsLoggedAtInfo = 32

    /// Logs something the peer caused on one channel (a refused handshake, a dropped channel, a
    /// channel that broke the protocol): at info for the first ``peerEventsLoggedAtInfo`` of the
    /// connection, then at debug, with one info line at the switch.
    func logPeerEvent(_ message: @autoclosure () -> Logger.Message, metadata: @autoclosure () -> Logger.Metadata) {
        peerEventsLogged += 1
        guard peerEventsLogged > Self.peerEventsLoggedAtInfo else {
            logger.info(message(), metadata: metadata())
            return
        }
        if peerEventsLogged == Self.peerEventsLoggedAtInfo + 1 {
            logger.info("more channel refusals and drops from this peer: logged at debug from now on")
        }
        logger.debug(message(), metadata: metadata())
    }
}
