/// Handlers run on their connection's event loop, and a message buffered behind another is
/// handed over without a suspension: a peer that sends several large messages at once (a
/// few kilobytes each on the wire when deflated) would have them all parsed in one go,
/// holding up every other connection of that loop for as long.
///
/// A subprotocol's reader calls this after each message: past `threshold` bytes it yields,
/// so the loop serves its other connections between two large messages.
package func yieldAfterLargeMessage(of bytes: Int, threshold: Int = 64 * 1024) async {
    if bytes >= threshold { await Task.yield() }
}
