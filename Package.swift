// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "vouch",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "vouchd", targets: ["vouchd"]),
        .executable(name: "vouchctl", targets: ["vouchctl"]),
        .executable(name: "vouch-seed", targets: ["vouch-seed"]),
        .library(name: "VouchClient", targets: ["VouchClient"]),
        .library(name: "VouchProtocol", targets: ["VouchProtocol"]),
        .library(name: "VouchSecrets", targets: ["VouchSecrets"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // System libraries from Debian's -dev packages (see DEB_PACKAGES in the Makefile).
        .systemLibrary(name: "CSQLite", path: "Sources/System/CSQLite"),
        .systemLibrary(name: "CArgon2", path: "Sources/System/CArgon2"),
        .systemLibrary(name: "COpenSSL", path: "Sources/System/COpenSSL"),
        .systemLibrary(name: "CCrypt", path: "Sources/System/CCrypt"),
        .systemLibrary(name: "CSystemd", path: "Sources/System/CSystemd"),
        // Small C shims for what Swift cannot express (struct ucred, prctl, explicit_bzero).
        .target(name: "CVouchSys", path: "Sources/System/CVouchSys"),

        // A leaf shared by protocol and core: secrets held in wiped buffers.
        .target(name: "VouchSecrets", dependencies: ["CVouchSys"]),
        .target(name: "VouchProtocol", dependencies: ["VouchSecrets"]),
        .target(
            name: "VouchCore",
            dependencies: [
                "VouchSecrets", "CSQLite", "CArgon2", "COpenSSL", "CCrypt", "CVouchSys",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "VouchServer",
            dependencies: [
                "VouchProtocol", "VouchCore", "CSystemd", "CVouchSys",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "VouchClient",
            dependencies: [
                "VouchProtocol", "VouchSecrets",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "vouchd",
            dependencies: [
                "VouchServer", "VouchCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "vouchctl",
            dependencies: [
                "VouchClient", "VouchProtocol", "CVouchSys", "CSQLite",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Benchmark data: N users with one precomputed hash, M deterministic session tokens (make bench).
        .executableTarget(
            name: "vouch-seed",
            dependencies: ["VouchCore", "VouchSecrets", "COpenSSL", .product(name: "Logging", package: "swift-log")]
        ),

        .testTarget(name: "VouchProtocolTests", dependencies: ["VouchProtocol"]),
        .testTarget(name: "VouchCoreTests", dependencies: ["VouchCore"]),
        .testTarget(
            name: "VouchServerTests",
            dependencies: [
                "VouchServer", "VouchCore", "VouchProtocol", .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "VouchIntegrationTests",
            dependencies: ["VouchClient", "VouchProtocol", "VouchCore", "vouchd", "vouchctl"]
        ),
    ]
)
