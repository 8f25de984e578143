import SOAP

/// The demo service `switchboard serve` mounts at `/soap` (an example, not part of the SOAP
/// product): a calculator in namespace `urn:example:calc`.
///
/// - `Add`, `Subtract`, `Multiply`, `Divide`: `{a, b}` 64-bit integers, answered by
///   `<Operation>Response {result}`. Division truncates; a zero divisor is a Sender fault
///   with subcode `calc:DivisionByZero`, and a result past 64 bits a Sender fault with
///   subcode `calc:Overflow` (Swift traps on overflow, and a trap would end the server).
/// - `Subscribe`: `{count, intervalMs}`; answers `{accepted}` (the count, at most 1000),
///   then pushes `accepted` one-way `Tick {n}` messages (n = 1...), one per interval.
///
/// Its WSDL is at `GET /soap?wsdl`.
public enum SOAPCalculatorDemo {
    public static let namespace = "urn:example:calc"
    public static let service = "CalculatorService"

    public struct Operands: Codable, Sendable {
        public var a: Int
        public var b: Int
        public init(a: Int, b: Int) { (self.a, self.b) = (a, b) }
    }

    public struct Result: Codable, Sendable {
        public var result: Int
        public init(result: Int) { self.result = result }
    }

    public struct Subscription: Codable, Sendable {
        public var count: Int
        public var intervalMs: Int
        public init(count: Int, intervalMs: Int) { (self.count, self.intervalMs) = (count, intervalMs) }
    }

    public struct Accepted: Codable, Sendable {
        public var accepted: Int
        public init(accepted: Int) { self.accepted = accepted }
    }

    public struct Tick: Codable, Sendable {
        public var n: Int
        public init(n: Int) { self.n = n }
    }

    /// A handler serving the calculator.
    public static func handler(configuration: SOAPConfiguration = SOAPConfiguration()) -> SOAPHandler {
        SOAPHandler(operations: operations(), configuration: configuration)
    }

    public static func operations() -> SOAPOperations {
        var operations = SOAPOperations(namespace: namespace)
        operations.register("Add") { (p: Operands, _) in try checked(p.a.addingReportingOverflow(p.b)) }
        operations.register("Subtract") { (p: Operands, _) in try checked(p.a.subtractingReportingOverflow(p.b)) }
        operations.register("Multiply") { (p: Operands, _) in try checked(p.a.multipliedReportingOverflow(by: p.b)) }
        operations.register("Divide") { (p: Operands, _) in
            guard p.b != 0 else { throw SOAPFault(.sender, reason: "division by zero", subcode: XName("DivisionByZero", namespace: namespace)) }
            return try checked(p.a.dividedReportingOverflow(by: p.b))  // Int.min / -1
        }
        operations.register("Subscribe") { (p: Subscription, peer) in
            let count = min(max(p.count, 0), 1000)
            let interval = Duration.milliseconds(min(max(p.intervalMs, 0), 60_000))
            try peer.startTask {
                for n in stride(from: 1, through: count, by: 1) {
                    try await Task.sleep(for: interval)
                    try await peer.send("Tick", Tick(n: n))
                }
            }
            return Accepted(accepted: count)
        }
        return operations
    }

    /// The WSDL served at `GET /soap?wsdl`, with `location` as the ports' address.
    public static func wsdl(location: String) -> String {
        operations().wsdl(service: service, location: location)
    }

    private static func checked(_ outcome: (partialValue: Int, overflow: Bool)) throws -> Result {
        guard !outcome.overflow else {
            throw SOAPFault(.sender, reason: "overflow: the result does not fit a 64-bit integer", subcode: XName("Overflow", namespace: namespace))
        }
        return Result(result: outcome.partialValue)
    }
}
