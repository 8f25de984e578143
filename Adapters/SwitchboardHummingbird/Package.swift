// swift-tools-version:6.1
import PackageDescription

// Switchboard mounted in a Hummingbird 2 app: a package of its own, so that the main package
// does not depend on Hummingbird. `.ci/run` builds and tests it (scripts/test.sh, stage 2b).
let package = Package(
    name: "SwitchboardHummingbird",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SwitchboardHummingbird", targets: ["SwitchboardHummingbird"]),
        .executable(name: "hummingbird-example", targets: ["HummingbirdExample"]),
    ],
    dependencies: [
        .package(name: "Switchboard", path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
    ],
    targets: [
        .target(
            name: "SwitchboardHummingbird",
            dependencies: [
                .product(name: "Switchboard", package: "Switchboard"),
                .product(name: "SwitchboardCore", package: "Switchboard"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            ]
        ),
        .executableTarget(
            name: "HummingbirdExample",
            dependencies: [
                "SwitchboardHummingbird",
                .product(name: "Switchboard", package: "Switchboard"),
                .product(name: "SwitchboardCore", package: "Switchboard"),
                .product(name: "JSONRPC", package: "Switchboard"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SwitchboardHummingbirdTests",
            dependencies: [
                "SwitchboardHummingbird",
                .product(name: "Switchboard", package: "Switchboard"),
                .product(name: "SwitchboardCore", package: "Switchboard"),
                .product(name: "JSONRPC", package: "Switchboard"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ]
)
