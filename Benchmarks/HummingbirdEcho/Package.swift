// swift-tools-version:6.1
// hummingbird-websocket's echo server, for issue 6's deflate comparison: the
// same load (`switchboard bench --deflate`) against it and against
// `switchboard serve`. A separate package on purpose, with its own build:
//
//     swift build -c release --package-path Benchmarks/HummingbirdEcho --scratch-path Benchmarks/HummingbirdEcho/.build
import PackageDescription

let package = Package(
    name: "HummingbirdEcho",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hb-echo-server", targets: ["hb-echo-server"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "hb-echo-server",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSCompression", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        )
    ]
)
