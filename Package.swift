// swift-tools-version:6.0
// massiva: bulk POD <-> MOME / Smart Info associations.
// No package dependencies by rule: Foundation, Dispatch, Glibc, and the system libraries
// libsqlite3 and libzip through system-library targets.
import PackageDescription

let package = Package(
    name: "massiva",
    products: [
        .executable(name: "massiva", targets: ["massiva"]),
    ],
    targets: [
        // C libraries, wrapped once each (MassivaDatabase, MassivaSpool/ZipArchive).
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZip", path: "Sources/CZip", pkgConfig: "libzip",
                       providers: [.apt(["libzip-dev"])]),

        // Thin typed wrappers over Glibc: descriptors, errno, atomic files, inotify, signals.
        .target(name: "MassivaSystem"),
        // Pure domain rules: identifiers, row checks, outcomes, backoff, SCP/1. No I/O.
        .target(name: "MassivaDomain"),
        // CSV reading (dialects, encodings) and writing.
        .target(name: "MassivaCSV"),
        // Postfix-style configuration file and durations.
        .target(name: "MassivaConfig", dependencies: ["MassivaSystem"]),
        // SQLite, wrapped once.
        .target(name: "MassivaDatabase", dependencies: ["CSQLite"]),
        // The grid registry: protocol and the embedded SQLite implementation.
        .target(name: "MassivaRegistry",
                dependencies: ["MassivaDomain", "MassivaDatabase", "MassivaCSV", "MassivaSystem"]),
        // Spool layout, request state, claiming files, result files.
        .target(name: "MassivaSpool",
                dependencies: ["MassivaDomain", "MassivaDatabase", "MassivaCSV", "MassivaSystem",
                               "MassivaConfig", "CZip"]),
        // Turning requests into row outcomes: the checks against the registry, retries.
        .target(name: "MassivaProcessing",
                dependencies: ["MassivaDomain", "MassivaRegistry", "MassivaSpool", "MassivaCSV",
                               "MassivaConfig", "MassivaSystem", "MassivaDatabase"]),
        // The long-running service: inotify, timers, signals, sd_notify.
        .target(name: "MassivaDaemon",
                dependencies: ["MassivaProcessing", "MassivaSpool", "MassivaSystem",
                               "MassivaConfig"]),
        // The portal's other services: POD search, single associations, report, audit trail.
        .target(name: "MassivaServices",
                dependencies: ["MassivaProcessing", "MassivaRegistry", "MassivaSpool", "MassivaDomain",
                               "MassivaDatabase", "MassivaSystem", "MassivaCSV"]),
        // Subcommands and argument parsing.
        .target(name: "MassivaCLI",
                dependencies: ["MassivaDaemon", "MassivaServices", "MassivaProcessing", "MassivaRegistry",
                               "MassivaSpool", "MassivaConfig", "MassivaCSV", "MassivaDomain",
                               "MassivaSystem", "MassivaDatabase"]),
        .executableTarget(name: "massiva", dependencies: ["MassivaCLI"]),

        .testTarget(name: "MassivaDomainTests", dependencies: ["MassivaDomain"]),
        .testTarget(name: "MassivaCSVTests", dependencies: ["MassivaCSV"]),
        .testTarget(name: "MassivaConfigTests", dependencies: ["MassivaConfig", "MassivaCLI"]),
        .testTarget(name: "MassivaSystemTests", dependencies: ["MassivaSystem"]),
        .testTarget(name: "MassivaEngineTests",
                    dependencies: ["MassivaProcessing", "MassivaRegistry", "MassivaSpool",
                                   "MassivaDatabase", "MassivaDomain", "MassivaConfig",
                                   "MassivaSystem", "MassivaCSV"]),
        .testTarget(name: "MassivaDaemonTests",
                    dependencies: ["MassivaDaemon", "MassivaProcessing", "MassivaRegistry", "MassivaSpool",
                                   "MassivaDatabase", "MassivaDomain", "MassivaConfig", "MassivaSystem"]),
        .testTarget(name: "MassivaServicesTests",
                    dependencies: ["MassivaServices", "MassivaProcessing", "MassivaRegistry", "MassivaSpool",
                                   "MassivaDatabase", "MassivaDomain", "MassivaConfig", "MassivaSystem", "MassivaCLI"]),
        .testTarget(name: "MassivaEndToEndTests",
                    dependencies: ["MassivaSystem", "MassivaCSV"]),
        // As deployed: real users, groups, sshd and sftp client, the daemon as its own user.
        .testTarget(name: "MassivaDeploymentTests"),
    ]
)
