// JSONValue is part of JSON-RPC's API (params, results, error data): a user who imports
// JSONRPC gets it. The rest of the JSON toolkit stays `package`.
@_exported import SwitchboardJSON
