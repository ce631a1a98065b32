// swift-tools-version: 6.1
// Skryba — call-recording appliance firmware. See README.md and docs/architecture.md.
import PackageDescription

/// Debian 12 packages that provide each C library (`apt-get install` names).
let systemLibraries: [Target] = [
    .systemLibrary(name: "CALSA", pkgConfig: "alsa", providers: [.apt(["libasound2-dev"])]),
    .systemLibrary(name: "CGPIOD", pkgConfig: "libgpiod", providers: [.apt(["libgpiod-dev"])]),
    .systemLibrary(name: "COpus", pkgConfig: "opus", providers: [.apt(["libopus-dev"])]),
    // <sys/timex.h> from libc: whether the kernel's clock is synchronised (no library to link).
    .systemLibrary(name: "CKernelClock"),
]

let package = Package(
    name: "Skryba",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "skrybad", targets: ["skrybad"]),
        .executable(name: "skryba", targets: ["skryba"]),
        .executable(name: "skryba-tools", targets: ["skryba-tools"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        // The catalog: GRDB over the system libsqlite3 (its GRDBSQLite target, libsqlite3-dev).
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // Files: FileDescriptor, Errno, FilePath.
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: systemLibraries + [
        // Tiny C functions for variadic/macro C APIs (opus_encoder_ctl, alsa-lib's error handler).
        .target(name: "CSkrybaShims", dependencies: ["COpus", "CALSA"]),

        // The domain: no C modules, no I/O. Sample clock, line and audio-format model.
        .target(name: "SkrybaCore"),

        // Thin owners of C handles, one typed error per library.
        .target(name: "SkrybaALSA", dependencies: ["CALSA", "CSkrybaShims", "SkrybaCore"]),
        .target(name: "SkrybaGPIO", dependencies: ["CGPIOD", "SkrybaCore"]),
        .target(name: "SkrybaOpus", dependencies: ["COpus", "CSkrybaShims"]),

        // Ogg Opus muxing and parsing per RFC 3533 / RFC 7845 (pure Swift).
        .target(name: "SkrybaOgg"),

        // Signal detection on line audio: DTMF, caller ID (FSK V.23/Bell 202, DTMF CLIP). Pure Swift.
        .target(name: "SkrybaSignals", dependencies: ["SkrybaCore"]),

        // The configuration file (TOML): parsing with line numbers, the model, validation.
        .target(name: "SkrybaConfig", dependencies: ["SkrybaCore", "SkrybaSeal", "SkrybaOpus"]),

        // Files through swift-system's FileDescriptor with the crash-safety discipline on top: fsync,
        // directory fsync, truncation; whether the system clock is synchronised (adjtimex).
        .target(name: "SkrybaSystem", dependencies: ["CKernelClock", .product(name: "SystemPackage", package: "swift-system")]),

        // The sealed-recording format: age v1 header (X25519 recipients), authenticated records.
        .target(name: "SkrybaSeal", dependencies: ["SkrybaSystem", .product(name: "Crypto", package: "swift-crypto")]),

        // Catalog (SQLite through GRDB), append-only audit log with signed checkpoints, device key, recovery.
        .target(
            name: "SkrybaStore",
            dependencies: [.product(name: "GRDB", package: "GRDB.swift"), "SkrybaSeal", "SkrybaSystem",
                           .product(name: "Crypto", package: "swift-crypto")]
        ),

        // Export bundles (issue 11, docs/disclosure.md): POSIX tar, manifest, signature, audit excerpt;
        // streaming writer and IT's verifier. No SQL: the register lives in SkrybaStore/Requests.
        .target(name: "SkrybaExport", dependencies: ["SkrybaStore", .product(name: "Crypto", package: "swift-crypto")]),

        // The real-time spine: capture thread, lock-free per-line rings.
        .target(name: "SkrybaCapture", dependencies: ["SkrybaCore", "SkrybaALSA", "CSkrybaShims"]),

        // Line workers: rings → Opus → Ogg Opus → files; the bench.
        .target(
            name: "SkrybaPipeline",
            dependencies: ["SkrybaCore", "SkrybaCapture", "SkrybaALSA", "SkrybaOpus", "SkrybaOgg", "SkrybaSeal", "SkrybaStore", "SkrybaSystem", "SkrybaSignals", "SkrybaConfig",
                           "SkrybaGPIO", .product(name: "Crypto", package: "swift-crypto")]
        ),

        // What goes in the case file, in Polish: documents rendered to HTML and, by its own PDF writer, to PDF.
        .target(name: "SkrybaDocuments", dependencies: ["SkrybaStore"]),

        // The daemon as a service: systemd notify/watchdog, journal logging, health and alarms, the
        // control socket. No C modules of its own; ServiceLifecycle runs the services.
        .target(
            name: "SkrybaService",
            dependencies: ["SkrybaCore", "SkrybaALSA", "SkrybaCapture", "SkrybaGPIO", "SkrybaPipeline", "SkrybaStore", "SkrybaSystem", "SkrybaConfig",
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "Logging", package: "swift-log")]
        ),

        // The technician's serial console (`skryba console`): line editor, commands, first setup.
        .target(
            name: "SkrybaConsole",
            dependencies: ["SkrybaConfig", "SkrybaCore", "SkrybaStore", "SkrybaSeal", "SkrybaSystem", "SkrybaPipeline", "SkrybaALSA"]
        ),

        .executableTarget(
            name: "skrybad",
            dependencies: ["SkrybaPipeline", "SkrybaSeal", "SkrybaStore", "SkrybaConfig", "SkrybaGPIO", "SkrybaCapture", "SkrybaALSA",
                           "SkrybaService",
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "skryba",
            dependencies: ["SkrybaPipeline", "SkrybaSeal", "SkrybaStore", "SkrybaConfig", "SkrybaDocuments", "SkrybaExport", "SkrybaService", "SkrybaConsole",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "skryba-tools",
            dependencies: ["SkrybaPipeline", "SkrybaSeal", "SkrybaStore", "SkrybaExport", "SkrybaDocuments", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        // Test support: counts malloc family calls per thread (interposes malloc in the test binary).
        .target(name: "CAllocationCounter", path: "Tests/CAllocationCounter"),
        .testTarget(
            name: "SkrybaTests",
            dependencies: [
                "SkrybaCore", "SkrybaALSA", "SkrybaGPIO", "SkrybaOpus", "SkrybaOgg",
                "SkrybaCapture", "SkrybaPipeline", "SkrybaSeal", "SkrybaStore", "SkrybaSystem", "SkrybaSignals", "SkrybaConfig",
                "CAllocationCounter", "SkrybaDocuments", "SkrybaExport", "SkrybaService", "SkrybaConsole",
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Tests/SkrybaTests",
            // Read by path (#filePath), not bundled.
            exclude: ["Fixtures"]
        ),
    ]
)
