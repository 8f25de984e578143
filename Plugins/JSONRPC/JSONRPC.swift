// JSON-RPC 2.0 subprotocol: see JSONRPCPeer.swift.
