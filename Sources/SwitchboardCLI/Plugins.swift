import ArgumentParser
import SwitchboardExamples
import SwitchboardRegistry

struct Plugins: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the plug-ins of the Registry.")

    func run() {
        print("echo  subprotocol  route /echo  (built in: every message sent back)")
        for plugin in SwitchboardRegistry.all {
            var line = "\(plugin.token)  \(plugin.kind.rawValue)  \(plugin.specification)"
            // Where `serve` mounts it: its own route, or that of the example service speaking its token.
            if let route = plugin.route ?? SwitchboardDemos.all.first(where: { $0.token == plugin.token })?.route {
                line += "  route \(route)"
            }
            line += "  defaults: \(plugin.defaults)"
            print(line)
        }
    }
}
