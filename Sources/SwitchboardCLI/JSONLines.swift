import SwitchboardBench
import SwitchboardJSON

/// Writes `value` as one line of compact JSON on standard output (what `soap-call` and
/// `xmpp-chat` print, for scripts and tests to read).
func printJSONLine(_ value: JSONValue) {
    var out: [UInt8] = []
    JSONWriter.write(value, to: &out)
    StandardStream.standardOutput.write(String(decoding: out, as: UTF8.self) + "\n")
}
