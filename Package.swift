// swift-tools-version:6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Switchboard",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SwitchboardCore", targets: ["SwitchboardCore"]),
        .library(name: "Switchboard", targets: ["Switchboard"]),
        .library(name: "SwitchboardRegistry", targets: ["SwitchboardRegistry"]),
        .library(name: "PerMessageDeflate", targets: ["PerMessageDeflate"]),
        .library(name: "JSONRPC", targets: ["JSONRPC"]),
        .library(name: "Multiplex", targets: ["Multiplex"]),
        .library(name: "SOAP", targets: ["SOAP"]),
        .library(name: "XMPP", targets: ["XMPP"]),
        .executable(name: "switchboard", targets: ["switchboard"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),  // latency histograms of `switchboard bench`
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),  // XMPP's SCRAM: SHA-1, SHA-256, HMAC
        // `WebSocketServer` is a `Service`: apps run it in their ServiceGroup beside their HTTP server.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // `HostedWebSocketServer` takes the `HTTPRequest` another server parsed (Hummingbird and Vapor speak it).
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // Connections, handshakes, messages and closes are counted through swift-metrics (a no-op
        // until the application bootstraps a backend); `serve --metrics` exports them with swift-prometheus.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // A span per handshake and per JSON-RPC or SOAP call, continuing the peer's trace context
        // (a no-op until the application bootstraps a tracer).
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        // `swift package generate-documentation`: the DocC catalogues under each module.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin.git", from: "1.5.0"),
    ],
    targets: [
        // The protocol, with no I/O.
        .target(
            name: "SwitchboardCore",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // SwiftNIO transport: server, client, TLS, async API.
        .target(
            name: "Switchboard",
            dependencies: [
                "SwitchboardCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strictSettings
        ),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        // RFC 7692, over the system zlib.
        .target(
            name: "PerMessageDeflate",
            dependencies: [
                "SwitchboardCore", "CZlib", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            path: "Plugins/PerMessageDeflate",
            swiftSettings: strictSettings
        ),
        // The JSON toolkit (JSONValue, a strict parser, a writer, Codable to and from JSONValue):
        // not a product. JSONRPC re-exports JSONValue; the rest is `package`, for the plug-ins,
        // their tests and fuzzers. The model for the XML layer SOAP and XMPP will share.
        .target(
            name: "SwitchboardJSON",
            path: "Sources/SwitchboardJSON",
            swiftSettings: strictSettings
        ),
        // The XML toolkit SOAP and XMPP share (XElement, a strict parser with limits and no DTD,
        // a writer, Codable to and from XElement, XML Schema shapes of Codable types): not a
        // product. The element model is public and re-exported by the plug-ins; the rest is `package`.
        .target(
            name: "SwitchboardXML",
            path: "Sources/SwitchboardXML",
            swiftSettings: strictSettings
        ),
        // What request/response subprotocols share (not a product): calls served concurrently
        // under a bound, our calls awaiting answers with deadlines.
        .target(
            name: "SwitchboardCalls",
            dependencies: [
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            path: "Sources/SwitchboardCalls",
            swiftSettings: strictSettings
        ),
        // JSON-RPC 2.0 as a subprotocol.
        .target(
            name: "JSONRPC",
            dependencies: [
                "SwitchboardCore", "SwitchboardJSON", "SwitchboardCalls", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Plugins/JSONRPC",
            swiftSettings: strictSettings
        ),
        // SOAP 1.2 and 1.1 over WebSocket ([MS-SWSB], token `soap`), with WS-Addressing and WSDL.
        .target(
            name: "SOAP",
            dependencies: [
                "SwitchboardCore", "SwitchboardXML", "SwitchboardCalls", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Plugins/SOAP",
            swiftSettings: strictSettings
        ),
        // XMPP over WebSocket (RFC 7395, token `xmpp`): server (stream machine, SCRAM, router, roster) and client.
        .target(
            name: "XMPP",
            dependencies: [
                "SwitchboardCore", "SwitchboardXML", "SwitchboardCalls", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            ],
            path: "Plugins/XMPP",
            swiftSettings: strictSettings
        ),
        // Logical channels over one socket (draft-ietf-hybi-websocket-multiplexing).
        .target(
            name: "Multiplex",
            dependencies: [
                "SwitchboardCore", .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            path: "Plugins/Multiplex",
            swiftSettings: strictSettings
        ),
        // What `switchboard serve` shows off: the JSON-RPC demo service, the browser test page (not a product).
        .target(
            name: "SwitchboardExamples",
            dependencies: ["SwitchboardCore", "JSONRPC", "SOAP"],
            path: "Examples",
            swiftSettings: strictSettings
        ),
        // The catalogue of built-in plug-ins.
        .target(
            name: "SwitchboardRegistry",
            dependencies: ["SwitchboardCore", "PerMessageDeflate", "JSONRPC", "SOAP", "XMPP", "Multiplex"],
            path: "Registry",
            swiftSettings: strictSettings
        ),
        // The command-line tool. Its folder differs from the transport's `Sources/Switchboard` in more
        // than case: on a case-insensitive file system (macOS's default) the two would be one folder.
        .executableTarget(
            name: "switchboard",
            dependencies: [
                "Switchboard",
                "SwitchboardCore",
                "SwitchboardRegistry",
                "SwitchboardBench",
                "SwitchboardExamples",
                "Multiplex",
                "PerMessageDeflate",
                "SOAP",
                "XMPP",
                "SwitchboardJSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Sources/SwitchboardCLI",
            swiftSettings: strictSettings
        ),
        // `switchboard bench`: the load generator and its measurements (not a product).
        .target(
            name: "SwitchboardBench",
            dependencies: [
                "Switchboard",
                "SwitchboardCore",
                "SwitchboardRegistry",
                "Multiplex",
                "PerMessageDeflate",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: strictSettings
        ),
        // Counts the heap allocations of a benchmark executable (it defines malloc): never a library's dependency.
        .target(name: "AllocationCounter", path: "Benchmarks/AllocationCounter"),
        // Release-mode micro-benchmarks (not a product).
        .executableTarget(
            name: "switchboard-microbench",
            dependencies: [
                "SwitchboardCore", "PerMessageDeflate", "Multiplex", "CZlib", "AllocationCounter",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/Micro",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "mux-hol-bench",
            dependencies: [
                "Multiplex", "Switchboard", "SwitchboardCore", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/MuxHOL",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "jsonrpc-bench",
            dependencies: [
                "JSONRPC", "SOAP", "SwitchboardExamples", "Switchboard", "SwitchboardCore", "AllocationCounter",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/JSONRPC",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "xmpp-bench",
            dependencies: ["XMPP", "Switchboard", "SwitchboardCore", .product(name: "NIOCore", package: "swift-nio")],
            path: "Benchmarks/XMPP",
            swiftSettings: strictSettings
        ),
        // Helpers shared by the test targets: a seeded RNG, a lock box, a bounded loopback server.
        .target(
            name: "SwitchboardTestSupport",
            dependencies: ["Switchboard", "SwitchboardCore", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/TestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "JSONRPCTests",
            dependencies: [
                "SwitchboardTestSupport", "JSONRPC", "SwitchboardJSON", "SwitchboardExamples", "Switchboard", "SwitchboardCore",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SOAPTests",
            dependencies: [
                "SwitchboardTestSupport", "SOAP", "SwitchboardXML", "SwitchboardExamples", "Switchboard", "SwitchboardCore",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "XMPPTests",
            dependencies: ["XMPP", "SwitchboardCore", "Switchboard", "SwitchboardTestSupport", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SwitchboardXMLTests",
            dependencies: ["SwitchboardXML"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SwitchboardCoreTests",
            dependencies: ["SwitchboardTestSupport", "SwitchboardCore", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "PerMessageDeflateTests",
            dependencies: ["SwitchboardTestSupport", "PerMessageDeflate", "SwitchboardCore", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "MultiplexTests",
            dependencies: [
                "Multiplex", "SwitchboardCore", "SwitchboardTestSupport", "Switchboard", "JSONRPC", "SwitchboardExamples", "PerMessageDeflate",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SwitchboardTests",
            dependencies: [
                "SwitchboardTestSupport",
                "Switchboard", "SwitchboardCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // A user's session extension (two sessions over one socket), from outside the library's modules.
        .testTarget(
            name: "CustomSessionExtensionExampleTests",
            dependencies: ["SwitchboardTestSupport", "Switchboard", "SwitchboardCore", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/CustomSessionExtensionExample",
            swiftSettings: strictSettings
        ),
        // A user's subprotocol, registered from outside the library's modules.
        .testTarget(
            name: "CustomSubprotocolExampleTests",
            dependencies: ["SwitchboardTestSupport", "Switchboard", "SwitchboardCore", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/CustomSubprotocolExample",
            swiftSettings: strictSettings
        ),
    ]
)

// libFuzzer targets (Fuzz/), only when SWITCHBOARD_FUZZ is set: they link only with `-sanitize=fuzzer`,
// which brings libFuzzer. scripts/fuzz.sh builds and runs them.
if Context.environment["SWITCHBOARD_FUZZ"] != nil {
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("FuzzFrames", ["SwitchboardCore"]),
        ("FuzzHandshake", ["SwitchboardCore", "PerMessageDeflate"]),
        ("FuzzDeflate", ["SwitchboardCore", "PerMessageDeflate"]),
        ("FuzzMux", ["SwitchboardCore", "Multiplex"]),
        ("FuzzJSON", ["JSONRPC", "SwitchboardJSON"]),
        ("FuzzXML", ["SOAP", "SwitchboardXML"]),
        ("FuzzXMPP", ["XMPP", "SwitchboardXML"]),
    ]
    // FuzzDriver: a C shim that starts libFuzzer from the entry point SwiftPM names MODULE_main.
    package.targets.append(.target(name: "FuzzDriver", path: "Fuzz/FuzzDriver"))
    for target in fuzzTargets {
        package.targets.append(
            .executableTarget(
                name: target.name,
                dependencies: target.dependencies + [
                    "FuzzDriver", .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "Logging", package: "swift-log"),
                ],
                path: "Fuzz/\(target.name)",
                swiftSettings: strictSettings
            ))
    }
}

// The Swift blocks of README.md and of the DocC articles as executables (`.snippets/`, written
// and built by scripts/check-snippets.sh), only when SWITCHBOARD_SNIPPETS is set: a block that
// stops compiling fails the test run.
if Context.environment["SWITCHBOARD_SNIPPETS"] != nil {
    let count = Int(Context.environment["SWITCHBOARD_SNIPPETS"] ?? "") ?? 0
    for index in 0..<count {
        package.targets.append(
            .executableTarget(
                name: "Snippet\(index)",
                dependencies: [
                    "Switchboard", "SwitchboardCore", "SwitchboardRegistry", "PerMessageDeflate", "Multiplex", "JSONRPC", "SOAP", "XMPP",
                    .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
                    .product(name: "Logging", package: "swift-log"),
                    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                    .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                    .product(name: "Metrics", package: "swift-metrics"),
                    .product(name: "Tracing", package: "swift-distributed-tracing"),
                ],
                path: ".snippets/Snippet\(index)",
                swiftSettings: strictSettings
            ))
    }
}
