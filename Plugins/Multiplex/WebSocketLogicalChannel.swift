import SwitchboardCore

/// A logical channel on a multiplexed connection, as its user sees it: a session
/// like any other, with its own inbound messages, outbound writer and context.
public typealias WebSocketLogicalChannel = WebSocketSession
