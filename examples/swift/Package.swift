// swift-tools-version:6.1
// An executable that uses VouchClient.  Here it depends on the vouch
// checkout two directories up; in your own package depend on a release tag:
//     .package(url: "https://github.com/OWNER/vouch.git", from: "0.1.0")
//     .product(name: "VouchClient", package: "vouch")
import Foundation
import PackageDescription

// SwiftPM names a path dependency after its directory (vouch, or a worktree's name).
let vouchRoot = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().deletingLastPathComponent()

let package = Package(
    name: "vouch-example",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: vouchRoot.path)
    ],
    targets: [
        .executableTarget(
            name: "vouch-login",
            dependencies: [.product(name: "VouchClient", package: vouchRoot.lastPathComponent)]
        )
    ]
)
