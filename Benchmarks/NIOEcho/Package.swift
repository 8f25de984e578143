// swift-tools-version:6.1
// The bare-SwiftNIO reference of issue 6: NIOWebSocket's upgrader plus a frame
// echo handler on one event-loop thread. A separate package on purpose: it is
// not part of Switchboard, and it must not share Switchboard's build settings
// or dependencies. Build it with its own scratch folder:
//
//     swift build -c release --package-path Benchmarks/NIOEcho --scratch-path Benchmarks/NIOEcho/.build
import PackageDescription

let package = Package(
    name: "NIOEcho",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "nio-echo-server", targets: ["nio-echo-server"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", .upToNextMinor(from: "2.101.2"))
    ],
    targets: [
        .executableTarget(
            name: "nio-echo-server",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        )
    ]
)
