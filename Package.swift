// swift-tools-version: 6.0
import PackageDescription

/// Squall: a network chaos and resilience test harness.
///
/// Module layering follows DESIGN.md §2: the fault model knows nothing of sockets, the proxy knows nothing of
/// scenarios, and only the executable prints or exits.
/// Every target: `any` spelled out for existentials, and members visible only from modules a file imports.
let upcomingFeatures: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Squall",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "squall", targets: ["squall"]),
        .library(name: "SquallFaults", targets: ["SquallFaults"]),
        .library(name: "SquallProxy", targets: ["SquallProxy"]),
        .library(name: "SquallReferenceProtocol", targets: ["SquallReferenceProtocol"]),
        .library(name: "SquallReferenceServer", targets: ["SquallReferenceServer"]),
        .library(name: "SquallReferenceClient", targets: ["SquallReferenceClient"]),
        .library(name: "SquallScenarios", targets: ["SquallScenarios"]),
        .library(name: "SquallReports", targets: ["SquallReports"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
    ],
    targets: [
        .target(
            name: "SquallFaults",
            dependencies: ["SquallReferenceProtocol"],
            swiftSettings: upcomingFeatures
        ),
        .target(
            name: "SquallServices",
            dependencies: [
                "SquallReferenceProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .target(
            name: "SquallProxy",
            dependencies: [
                "SquallFaults",
                "SquallReferenceProtocol",
                "SquallServices",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .target(name: "SquallReferenceProtocol", swiftSettings: upcomingFeatures),
        .target(
            name: "SquallReferenceServer",
            dependencies: [
                "SquallReferenceProtocol",
                "SquallServices",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .target(
            name: "SquallReferenceClient",
            dependencies: [
                "SquallReferenceProtocol",
                "SquallServices",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .target(
            name: "SquallScenarios",
            dependencies: [
                "SquallFaults",
                "SquallProxy",
                "SquallReferenceProtocol",
                "SquallReferenceServer",
                "SquallReferenceClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .target(
            name: "SquallSimulation",
            dependencies: [
                "SquallFaults",
                "SquallReferenceProtocol",
                "SquallReferenceServer",
                "SquallReferenceClient",
                "SquallScenarios",
            ],
            swiftSettings: upcomingFeatures
        ),
        .target(
            name: "SquallExplore",
            dependencies: ["SquallFaults", "SquallScenarios", "SquallSimulation"],
            swiftSettings: upcomingFeatures
        ),
        .target(
            name: "SquallReports",
            dependencies: ["SquallFaults", "SquallReferenceClient", "SquallScenarios"],
            swiftSettings: upcomingFeatures
        ),
        .target(
            name: "SquallSession",
            dependencies: [
                "SquallFaults",
                "SquallScenarios",
                "SquallReports",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .target(
            name: "SquallBenchmarks",
            dependencies: [
                "SquallFaults",
                "SquallServices",
                "SquallProxy",
                "SquallReferenceProtocol",
                "SquallReferenceServer",
                "SquallScenarios",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .target(
            name: "SquallTestSupport",
            dependencies: [
                "SquallBenchmarks",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .executableTarget(
            name: "squall",
            dependencies: [
                "SquallFaults",
                "SquallProxy",
                "SquallReferenceProtocol",
                "SquallReferenceServer",
                "SquallReferenceClient",
                "SquallScenarios",
                "SquallReports",
                "SquallSession",
                "SquallSimulation",
                "SquallExplore",
                "SquallBenchmarks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "SquallServicesTests",
            dependencies: [
                "SquallServices",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "SquallExploreTests",
            dependencies: ["SquallExplore", "SquallFaults", "SquallScenarios", "SquallSimulation"],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "SquallFaultsTests",
            dependencies: ["SquallFaults"],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "SquallReferenceClientTests",
            dependencies: ["SquallReferenceClient", "SquallReferenceProtocol"],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "SquallReferenceSystemTests",
            dependencies: [
                "SquallFaults",
                "SquallProxy",
                "SquallReferenceProtocol",
                "SquallReferenceServer",
                "SquallReferenceClient",
                "SquallBenchmarks",
                "SquallTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "SquallSessionTests",
            dependencies: ["SquallFaults", "SquallScenarios", "SquallReports", "SquallSession"],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "SquallScenariosTests",
            dependencies: [
                "SquallFaults", "SquallScenarios", "SquallReports", "SquallReferenceClient", "SquallReferenceServer",
                "SquallTestSupport",
            ],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "SquallSimulationTests",
            dependencies: [
                "SquallFaults", "SquallProxy", "SquallScenarios", "SquallSimulation", "SquallReports",
                "SquallReferenceClient",
            ],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "EmbeddingExampleTests",
            dependencies: [
                "SquallBenchmarks", "SquallFaults", "SquallProxy", "SquallTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "SquallCLITests",
            dependencies: ["SquallBenchmarks", "SquallFaults", "SquallScenarios", "SquallTestSupport"],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "SquallProxyTests",
            dependencies: [
                "SquallBenchmarks",
                "SquallFaults",
                "SquallSimulation",
                "SquallProxy",
                "SquallTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: upcomingFeatures
        ),
    ],
    swiftLanguageModes: [.v6]
)
