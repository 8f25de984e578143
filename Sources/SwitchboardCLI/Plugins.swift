import ArgumentParser
import SwitchboardRegistry

struct Plugins: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the plug-ins of the Registry.")

    func run() {
        print("echo  subprotocol  route /echo  (built in: every message sent back)")
        for plugin in SwitchboardRegistry.all {
            var line = "\(plugin.token)  \(plugin.kind.rawValue)  \(plugin.specification)"
            if let route = plugin.route { line += "  route \(route)" }
            line += "  defaults: \(plugin.defaults)"
            print(line)
        }
    }
}
