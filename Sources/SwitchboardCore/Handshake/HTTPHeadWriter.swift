import NIOCore

/// Serializes an HTTP/1.1 head.
public enum HTTPHeadWriter {
    /// A request head: `METHOD target HTTP/1.1`, then the fields.
    public static func request(method: String, target: String, headers: HandshakeHeaders) -> ByteBuffer {
        write(startLine: "\(method) \(target) HTTP/1.1", headers: headers)
    }

    /// A response head: `HTTP/1.1 status reason`, then the fields.
    public static func response(status: Int, headers: HandshakeHeaders) -> ByteBuffer {
        write(startLine: "HTTP/1.1 \(status) \(reasonPhrase(status))", headers: headers)
    }

    /// Any head: the start line, then the fields. Written into one buffer of the right size.
    public static func write(startLine: String, headers: HandshakeHeaders) -> ByteBuffer {
        var size = startLine.utf8.count + 4
        for field in headers { size += field.name.utf8.count + field.value.utf8.count + 4 }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(size)
        buffer.writeString(startLine)
        buffer.writeStaticString("\r\n")
        for field in headers {
            buffer.writeString(field.name)
            buffer.writeStaticString(": ")
            buffer.writeString(field.value)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("\r\n")
        return buffer
    }

    /// The reason phrase written after `status`.
    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 101: return "Switching Protocols"
        case 200: return "OK"
        case 400: return "Bad Request"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 426: return "Upgrade Required"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 503: return "Service Unavailable"
        default: return "Status \(status)"
        }
    }
}
