// swift-tools-version:6.0
// massiva: bulk POD <-> MOME / Smart Info associations.
// No package dependencies by rule: Foundation, Dispatch, Glibc, and the system libraries
// libsqlite3, libpq and libzip through system-library targets.
import PackageDescription

let package = Package(
    name: "massiva",
    products: [
        .executable(name: "massiva", targets: ["massiva"]),
    ],
    targets: [
        // C libraries, wrapped once each: SQLite (MassivaDatabase), libzip (MassivaResults'
        // ZipArchive), zlib's CRC-32 (MassivaDomain's SCP/1 checksum).
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZip", path: "Sources/CZip", pkgConfig: "libzip",
                       providers: [.apt(["libzip-dev"])]),
        // libpq (PostgreSQL's client library), for `database = postgresql://...` (MassivaDatabase).
        .systemLibrary(name: "CLibpq", path: "Sources/CLibpq", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // zlib comes with libzip (libzip-dev depends on zlib1g-dev); named for its own header.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        // The C library calls Swift's Glibc module leaves out (_GNU_SOURCE): syncfs, renameat2.
        .systemLibrary(name: "CGlibc", path: "Sources/CGlibc"),

        // Thin typed wrappers over Glibc: descriptors, errno, atomic files, inotify, signals,
        // the event log on stderr.
        .target(name: "MassivaSystem", dependencies: ["CGlibc"]),
        // Pure domain rules: identifiers, row checks, outcomes, backoff, SCP/1. No I/O.
        .target(name: "MassivaDomain", dependencies: ["CZlib"]),
        // CSV reading (dialects, encodings) and writing.
        .target(name: "MassivaCSV"),
        // Postfix-style configuration file and durations. MassivaDatabase for the `database`
        // setting: its `DatabaseLocation` is the one parser of that value (and hides a password).
        .target(name: "MassivaConfig", dependencies: ["MassivaSystem", "MassivaDatabase"]),
        // The database, wrapped once: SQLite (the embedded default) and PostgreSQL (libpq)
        // behind one connection type.
        .target(name: "MassivaDatabase", dependencies: ["CSQLite", "CLibpq"]),
        // The grid registry's protocol, its errors, and reading its master-data files.
        .target(name: "MassivaRegistry",
                dependencies: ["MassivaDomain", "MassivaCSV", "MassivaSystem"]),
        // The owner of the database: schema versions and migrations, the engine's state, the
        // audit trail, the embedded registry. Every table name and every SQL statement is here.
        .target(name: "MassivaStore",
                dependencies: ["MassivaDomain", "MassivaDatabase", "MassivaRegistry"]),
        // The spool's folders and taking uploads from them (intake).
        .target(name: "MassivaSpool",
                dependencies: ["MassivaDomain", "MassivaStore", "MassivaDatabase", "MassivaSystem", "MassivaCSV"]),
        // The files an SI downloads: rendering, the scp.zip archive, writing them atomically.
        .target(name: "MassivaResults",
                dependencies: ["MassivaDomain", "MassivaStore", "MassivaRegistry", "MassivaSpool", "MassivaCSV",
                               "MassivaSystem", "CZip"]),
        // The metrics file for Prometheus (node_exporter's textfile collector), written beside
        // the engine on a thread and a connection of its own.
        .target(name: "MassivaMetrics",
                dependencies: ["MassivaStore", "MassivaDatabase", "MassivaDomain", "MassivaSystem"]),
        // Turning requests into row outcomes: the checks against the registry, retries, the
        // engine's passes, and opening it all on a spool.
        .target(name: "MassivaProcessing",
                dependencies: ["MassivaDomain", "MassivaRegistry", "MassivaStore", "MassivaSpool", "MassivaResults",
                               "MassivaCSV", "MassivaConfig", "MassivaSystem", "MassivaDatabase", "MassivaMetrics"]),
        // The long-running service: inotify, timers, signals, sd_notify.
        .target(name: "MassivaDaemon",
                dependencies: ["MassivaProcessing", "MassivaStore", "MassivaDatabase", "MassivaSpool", "MassivaSystem", "MassivaConfig",
                               "MassivaDomain"]),
        // The portal's other services: POD search, single associations, report, audit trail.
        .target(name: "MassivaServices",
                dependencies: ["MassivaProcessing", "MassivaRegistry", "MassivaStore", "MassivaResults",
                               "MassivaDomain", "MassivaSystem"]),
        // Subcommands and argument parsing.
        .target(name: "MassivaCLI",
                dependencies: ["MassivaDaemon", "MassivaServices", "MassivaProcessing", "MassivaMetrics", "MassivaRegistry",
                               "MassivaStore", "MassivaResults", "MassivaSpool", "MassivaConfig", "MassivaCSV",
                               "MassivaDomain", "MassivaSystem", "MassivaDatabase"]),
        .executableTarget(name: "massiva", dependencies: ["MassivaCLI", "MassivaSystem"]),
        // The fuzz targets: `scripts/fuzz` (libFuzzer) and the corpus replay in MassivaFuzzTests.
        .target(name: "MassivaFuzz",
                dependencies: ["MassivaCLI", "MassivaConfig", "MassivaDomain", "MassivaRegistry", "MassivaSpool", "MassivaSystem"]),
        // Micro-benchmarks (SCP/1 rendering, scp.zip writing, the store's decoders): `scripts/bench --micro`.
        .executableTarget(name: "massiva-bench",
                         dependencies: ["MassivaDomain", "MassivaResults", "MassivaSpool", "MassivaStore", "MassivaSystem"]),
        // What the test targets share: a fake clock, files' times set from it, temporary
        // directories, a process runner, waits on a condition, the engine on a temporary spool
        // with the test registry (EngineFixture).
        .target(name: "MassivaTestSupport",
                dependencies: ["CGlibc", "MassivaSystem", "MassivaProcessing", "MassivaConfig", "MassivaCSV", "MassivaDatabase",
                               "MassivaDomain", "MassivaRegistry", "MassivaResults", "MassivaSpool", "MassivaStore"]),

        .testTarget(name: "MassivaDomainTests", dependencies: ["MassivaDomain", "MassivaTestSupport"]),
        .testTarget(name: "MassivaCSVTests", dependencies: ["MassivaCSV"]),
        // A test target per module: SQLite's wrapper, the result files' archive, the command line.
        .testTarget(name: "MassivaDatabaseTests", dependencies: ["MassivaDatabase", "MassivaTestSupport"]),
        .testTarget(name: "MassivaResultsTests", dependencies: ["MassivaResults", "MassivaSpool"]),
        .testTarget(name: "MassivaCLITests", dependencies: ["MassivaCLI"]),
        .testTarget(name: "MassivaConfigTests", dependencies: ["MassivaTestSupport", "MassivaConfig", "MassivaCLI", "MassivaDatabase"]),
        .testTarget(name: "MassivaSystemTests", dependencies: ["MassivaTestSupport", "MassivaSystem"]),
        .testTarget(name: "MassivaStoreTests",
                    dependencies: ["MassivaTestSupport", "MassivaStore", "MassivaDatabase", "MassivaRegistry", "MassivaDomain",
                                   "MassivaProcessing", "MassivaConfig", "MassivaSpool", "MassivaSystem"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "MassivaRegistryTests",
                    dependencies: ["MassivaRegistry", "MassivaStore", "MassivaDatabase", "MassivaDomain", "MassivaTestSupport"]),
        // Intake (taking uploads, cancellation, claim names), driven by the engine's passes.
        .testTarget(name: "MassivaSpoolTests",
                    dependencies: ["MassivaTestSupport", "MassivaSpool", "MassivaProcessing", "MassivaResults", "MassivaStore",
                                   "MassivaDomain", "MassivaSystem"]),
        .testTarget(name: "MassivaMetricsTests",
                    dependencies: ["MassivaTestSupport", "MassivaMetrics", "MassivaProcessing", "MassivaRegistry", "MassivaStore",
                                   "MassivaDatabase", "MassivaDomain", "MassivaConfig", "MassivaSystem"]),
        .testTarget(name: "MassivaProcessingTests",
                    dependencies: ["MassivaTestSupport", "MassivaProcessing", "MassivaMetrics", "MassivaRegistry", "MassivaStore",
                                   "MassivaResults", "MassivaSpool", "MassivaDomain", "MassivaConfig", "MassivaSystem", "MassivaCSV"]),
        // Runs the built binary (.build/debug/massiva) as a process; the schema guard's tests migrate its database.
        .testTarget(name: "MassivaDaemonTests", dependencies: ["MassivaTestSupport", "MassivaStore", "MassivaDatabase", "MassivaSystem"]),
        .testTarget(name: "MassivaServicesTests",
                    dependencies: ["MassivaTestSupport", "MassivaServices", "MassivaProcessing", "MassivaRegistry", "MassivaStore", "MassivaResults",
                                   "MassivaSpool", "MassivaDatabase", "MassivaDomain", "MassivaSystem", "MassivaConfig", "MassivaCLI"]),
        .testTarget(name: "MassivaFuzzTests", dependencies: ["MassivaFuzz"]),
        .testTarget(name: "MassivaEndToEndTests", dependencies: ["MassivaTestSupport", "MassivaCSV"]),
        // As deployed: real users, groups, sshd and sftp client, the daemon as its own user.
        .testTarget(name: "MassivaDeploymentTests", dependencies: ["MassivaTestSupport"]),
        // The test support's own tests: the throwaway PostgreSQL cluster (PostgresCluster).
        .testTarget(name: "MassivaTestSupportTests", dependencies: ["MassivaTestSupport"]),
    ]
)
