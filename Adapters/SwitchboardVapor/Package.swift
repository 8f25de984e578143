// swift-tools-version:6.1
import PackageDescription

// Switchboard mounted in a Vapor 4 app: a package of its own, so that the main package does not
// depend on Vapor. `.ci/run` builds and tests it (scripts/test.sh, stage 2b).
let package = Package(
    name: "SwitchboardVapor",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SwitchboardVapor", targets: ["SwitchboardVapor"]),
        .executable(name: "vapor-example", targets: ["VaporExample"]),
    ],
    dependencies: [
        .package(name: "Switchboard", path: "../.."),
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        .target(
            name: "SwitchboardVapor",
            dependencies: [
                .product(name: "Switchboard", package: "Switchboard"),
                .product(name: "SwitchboardCore", package: "Switchboard"),
                .product(name: "Vapor", package: "vapor"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .executableTarget(
            name: "VaporExample",
            dependencies: [
                "SwitchboardVapor",
                .product(name: "Switchboard", package: "Switchboard"),
                .product(name: "SwitchboardCore", package: "Switchboard"),
                .product(name: "JSONRPC", package: "Switchboard"),
                .product(name: "Vapor", package: "vapor"),
            ]
        ),
        .testTarget(
            name: "SwitchboardVaporTests",
            dependencies: [
                "SwitchboardVapor",
                .product(name: "Switchboard", package: "Switchboard"),
                .product(name: "SwitchboardCore", package: "Switchboard"),
                .product(name: "Vapor", package: "vapor"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ]
)
