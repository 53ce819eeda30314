// swift-tools-version: 6.2
// Coverage-guided fuzz targets for whisper-archive's decoders (libFuzzer + AddressSanitizer).
// Build and run them with scripts/fuzz; see README.md beside this file.
import Foundation
import PackageDescription

/// The main package is the parent folder; SwiftPM names a path dependency after its folder, whatever the clone is called.
let mainPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

/// The fuzz targets: each is an executable whose one file calls its harness in FuzzHarness.
let targets = [
    "rlp", "rlp-stream", "envelope", "message", "request", "completion", "status",
    "handshake-auth", "handshake-ack", "frame", "snappy", "hello", "p2p-session",
    "store-segment", "store-manifest", "jsonl", "lz4", "sqlite", "leveldb",
]

let strict: [SwiftSetting] = [.treatAllWarnings(as: .error)]

let package = Package(
    name: "whisper-archive-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // libleveldb's C API, for the harness that writes the databases the LevelDB source then reads.
        .systemLibrary(name: "CLevelDBFuzz"),
        .target(
            name: "FuzzHarness",
            dependencies: [
                "CLevelDBFuzz",
                .product(name: "RLP", package: mainPackage),
                .product(name: "EthCrypto", package: mainPackage),
                .product(name: "Whisper", package: mainPackage),
                .product(name: "DevP2P", package: mainPackage),
                .product(name: "ArchiveStore", package: mainPackage),
                .product(name: "ArchiveFormats", package: mainPackage),
                .product(name: "SQLite", package: mainPackage),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
    ]
        + targets.map { name in
            .executableTarget(name: "fuzz-\(name)", dependencies: ["FuzzHarness"], path: "Targets/\(name)", swiftSettings: strict)
        }
)
