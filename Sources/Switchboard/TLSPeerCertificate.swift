import NIOSSL
import SwitchboardCore

/// The key of the certificate a TLS client presented (wss with client certificates, when the
/// server's `TLSConfiguration` asks for them), in `WebSocketContext.values` and in an accept
/// hook's `WebSocketUpgradeRequest.values`.
public enum TLSPeerCertificate: WebSocketContextKey {
    public typealias Value = NIOSSLCertificate
}

extension WebSocketContext {
    /// The certificate the TLS client presented, if any.
    public var peerCertificate: NIOSSLCertificate? { values[TLSPeerCertificate.self] }
}

extension WebSocketUpgradeRequest {
    /// The certificate the TLS client presented, if any.
    public var peerCertificate: NIOSSLCertificate? { values[TLSPeerCertificate.self] }
}
