// swift-tools-version: 6.2
import PackageDescription

/// Our own targets treat warnings as errors; dependencies do not.
let strict: [SwiftSetting] = [.treatAllWarnings(as: .error)]

let package = Package(
    name: "whisper-archive",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "whisper-archive", targets: ["whisper-archive"]),
        // Libraries for the nested Fuzz/ package, whose targets drive the decoders directly.
        .library(name: "RLP", targets: ["RLP"]),
        .library(name: "EthCrypto", targets: ["EthCrypto"]),
        .library(name: "Whisper", targets: ["Whisper"]),
        .library(name: "DevP2P", targets: ["DevP2P"]),
        .library(name: "ArchiveStore", targets: ["ArchiveStore"]),
        .library(name: "ArchiveFormats", targets: ["ArchiveFormats"]),
        .library(name: "SQLite", targets: ["SQLite"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // C libraries from Debian packages.
        .systemLibrary(name: "CSecp256k1", pkgConfig: "libsecp256k1", providers: [.apt(["libsecp256k1-dev"])]),
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CLevelDB", providers: [.apt(["libleveldb-dev"])]),
        .systemLibrary(name: "CSnappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        // Our own C: the Keccak-f[1600] absorb loop and CRC-32C.
        .target(name: "CPrimitives"),

        // Core.
        .target(name: "SystemErrorText", swiftSettings: strict),
        .target(name: "RLP", swiftSettings: strict),
        .target(name: "SQLite", dependencies: ["CSQLite"], swiftSettings: strict),
        .target(
            name: "EthCrypto",
            dependencies: [
                "CPrimitives",
                "CSecp256k1",
                "COpenSSL",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(name: "Whisper", dependencies: ["RLP", "EthCrypto"], swiftSettings: strict),
        .target(
            name: "ArchiveStore",
            dependencies: [
                "CPrimitives", "Whisper", "RLP", "EthCrypto", "SQLite", "CLZ4", "SystemErrorText", .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "ArchiveFormats",
            dependencies: ["ArchiveStore", "SQLite", "Whisper", "EthCrypto", "CLevelDB", "CLZ4", "SystemErrorText"],
            swiftSettings: strict
        ),
        .target(
            name: "PostgresArchive",
            dependencies: [
                "ArchiveStore", "Whisper", "DevP2P",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(name: "ArchiveAudit", dependencies: ["ArchiveStore", "Whisper", "EthCrypto"], swiftSettings: strict),
        .target(
            name: "DevP2P",
            dependencies: [
                "RLP", "EthCrypto", "CSnappy", "SystemErrorText",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "MailServer",
            dependencies: [
                "DevP2P", "Whisper", "ArchiveStore", "RLP", "EthCrypto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),

        // The command-line tool.
        .executableTarget(
            name: "whisper-archive",
            dependencies: [
                "RLP", "EthCrypto", "Whisper", "DevP2P", "ArchiveStore", "ArchiveFormats", "MailServer", "ArchiveAudit", "PostgresArchive",
                "SQLite", "SystemErrorText",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),

        // Tests. Each list is what the target imports; "whisper-archive" where the tests run the built binary.
        .target(name: "TestSupport", dependencies: ["EthCrypto"], path: "Tests/TestSupport", swiftSettings: strict),
        .target(name: "ArchiveTestSupport", dependencies: ["ArchiveStore"], path: "Tests/ArchiveTestSupport", swiftSettings: strict),
        .testTarget(name: "RLPTests", dependencies: ["RLP", "EthCrypto", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "EthCryptoTests", dependencies: ["EthCrypto", "CPrimitives", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "WhisperTests", dependencies: ["Whisper", "EthCrypto", "RLP", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "MailServerTests",
            dependencies: ["MailServer", "DevP2P", "ArchiveStore", "Whisper", "EthCrypto", "RLP", "TestSupport", "whisper-archive"],
            swiftSettings: strict
        ),
        .testTarget(name: "CLITests", dependencies: ["EthCrypto", "Whisper", "TestSupport", "whisper-archive"], swiftSettings: strict),
        .testTarget(
            name: "DevP2PTests",
            dependencies: [
                "DevP2P", "RLP", "EthCrypto", "TestSupport",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ArchiveStoreTests",
            dependencies: ["ArchiveStore", "CPrimitives", "CSQLite", "SQLite", "Whisper", "EthCrypto", "TestSupport", "whisper-archive"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MaintenanceTests",
            dependencies: ["ArchiveStore", "ArchiveTestSupport", "Whisper", "EthCrypto", "TestSupport", "whisper-archive"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "AuditTests",
            dependencies: ["ArchiveAudit", "ArchiveStore", "Whisper", "EthCrypto", "TestSupport", "whisper-archive"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CompactTests",
            dependencies: ["ArchiveStore", "ArchiveTestSupport", "SQLite", "Whisper", "TestSupport", "whisper-archive"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PostgresTests",
            dependencies: ["DevP2P", "EthCrypto", "MailServer", "Whisper", "TestSupport", "whisper-archive"],
            swiftSettings: strict
        ),
        .testTarget(name: "SQLiteTests", dependencies: ["SQLite", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "ArchiveFormatsTests",
            dependencies: ["ArchiveFormats", "ArchiveStore", "SQLite", "Whisper", "CLevelDB", "TestSupport", "whisper-archive"],
            swiftSettings: strict
        ),
    ]
)
