import Glibc
import MassivaDatabase

/// Which engine the suites run on: the embedded SQLite file by default; a fresh database of
/// the process's PostgreSQL test cluster (`PostgresCluster.shared()`) when the environment says
/// `MASSIVA_TEST_DATABASE=postgresql` (scripts/test runs the store, engine and service suites,
/// and those that run massiva as a process, a second time so).
public enum TestDatabase {
    public static var engine: DatabaseLocation.Engine {
        guard let value = getenv("MASSIVA_TEST_DATABASE") else { return .sqlite }
        return String(cString: value) == "postgresql" ? .postgresql : .sqlite
    }

    /// The database a fixture opens: `embeddedPath` on SQLite, a new empty PostgreSQL database.
    public static func location(embeddedPath: String) throws -> DatabaseLocation {
        switch engine {
        case .sqlite: return .sqlite(path: embeddedPath)
        case .postgresql: return .postgresql(uri: try PostgresCluster.shared().createDatabase())
        }
    }
}

extension TestDatabase {
    /// The database for a spool that a test runs `massiva` on as a process, with its own
    /// massiva.cf: the embedded file at `spool/private/massiva.db` on SQLite, a fresh database of
    /// the shared test cluster on PostgreSQL (see `SpoolDatabase`).
    public static func spoolDatabase(spool: String) throws -> SpoolDatabase {
        switch engine {
        case .sqlite: return SpoolDatabase(location: .sqlite(path: spool + "/private/massiva.db"), cluster: nil)
        case .postgresql:
            let cluster = try PostgresCluster.shared()
            return SpoolDatabase(location: .postgresql(uri: try cluster.createDatabase()), cluster: cluster)
        }
    }
}

extension TestDatabase {
    /// The spool's embedded SQLite file whatever engine the suites run on: for a test of what
    /// only an embedded database has (`database copy` copies one).
    public static func embeddedSpoolDatabase(spool: String) -> SpoolDatabase {
        SpoolDatabase(location: .sqlite(path: spool + "/private/massiva.db"), cluster: nil)
    }
}

/// The database of a spool driven through the built `massiva`: the line its massiva.cf needs,
/// and the test's own way in (the sqlite3 shell, or psql against the URI) to read or change
/// what massiva stored. The process it spawns reaches the cluster through its Unix socket,
/// whose folder is world-searchable (`PostgresCluster.start`), so a daemon run as another user
/// connects too. A PostgreSQL database is dropped when this object goes.
public final class SpoolDatabase: Sendable {
    public let location: DatabaseLocation
    /// The cluster the database is dropped from when this goes; nil: the SQLite file, or a
    /// database whose servers go with it (`PostgresPair`).
    private let cluster: PostgresCluster?
    /// The PostgreSQL programs' folder (psql).
    private let binDirectory: String?

    init(location: DatabaseLocation, cluster: PostgresCluster?, binDirectory: String? = nil) {
        self.location = location
        self.cluster = cluster
        self.binDirectory = binDirectory ?? cluster?.binDirectory
    }

    deinit {
        // WITH (FORCE): a daemon the test killed may still hold a connection for a moment.
        if let cluster, let name = databaseName {
            _ = try? cluster.psql("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
    }

    public var engine: DatabaseLocation.Engine { location.engine }

    /// What massiva.cf says for it: nothing on SQLite (the embedded file is the default),
    /// `database = URI` on PostgreSQL.
    public var configurationLine: String {
        switch location {
        case .sqlite: ""
        case .postgresql(let uri): "database = \(uri)"
        }
    }

    /// The text of a massiva.cf, `configuration`, with `configurationLine` appended: unchanged
    /// on SQLite, and last on PostgreSQL, so the lines a test wrote keep their numbers (error
    /// messages name them).
    public func appended(to configuration: String) -> String {
        let line = configurationLine
        guard !line.isEmpty else { return configuration }
        return configuration + (configuration.hasSuffix("\n") || configuration.isEmpty ? "" : "\n") + line + "\n"
    }

    /// How massiva names it in its messages (`check`'s lines): the file's path or the URI.
    public var name: String { location.description }

    /// The PostgreSQL database's name (nil on SQLite).
    public var databaseName: String? {
        guard case .postgresql(let uri) = location else { return nil }
        return String(uri.dropFirst("postgresql:///".count).prefix { $0 != "?" })
    }

    /// `sqlite` on SQLite, `postgresql` on PostgreSQL: for a test's own SQL where the two
    /// dialects differ (`printf` and `lpad`, `char` and `chr`).
    public func dialect(sqlite: String, postgresql: String) -> String {
        engine == .sqlite ? sqlite : postgresql
    }

    /// Runs `sql` (one or more statements) with the engine's shell, `sqlite3 -separator '|'`
    /// or `psql -XAtq -F '|'`, and returns its lines split at `|` (NULL is an empty cell, a
    /// PostgreSQL boolean `t` or `f`). Throws with the shell's stderr when a statement fails.
    public func rows(_ sql: String) throws -> [[String]] {
        try lines(sql).map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
    }

    /// The shell's output (see `rows`), without its trailing newlines.
    public func text(_ sql: String) throws -> String { try lines(sql).joined(separator: "\n") }

    private func lines(_ sql: String) throws -> [String] {
        let arguments: [String]
        var input: String?
        switch location {
        case .sqlite(let path):
            // Waiting up to 5 s for a daemon's write lock rather than failing at once.
            arguments = ["/usr/bin/sqlite3", "-cmd", ".timeout 5000", "-separator", "|", path, sql]
        case .postgresql(let uri):
            // On stdin, not -c: each statement its own transaction and its own output, as in sqlite3.
            arguments = [binDirectory! + "/psql", "-XAtq", "-F", "|", "-v", "ON_ERROR_STOP=1", "-d", uri]
            input = sql
        }
        let result = try SpawnedProcess.run(arguments, input: input, timeout: 120)
        guard result.status == 0, !result.killed else {
            throw PostgresCluster.Failure(description: "\(arguments[0]) \(name) \(sql) failed (\(result.status)): \(result.stderr)")
        }
        var lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        while lines.last == "" { lines.removeLast() }
        return lines
    }

    /// The schema version the database records (SQLite's `PRAGMA user_version`, PostgreSQL's
    /// `schema_version`).
    public func schemaVersion() throws -> Int {
        Int(try text(dialect(sqlite: "PRAGMA user_version", postgresql: "SELECT version FROM schema_version"))) ?? -1
    }

    /// Sets the recorded schema version behind massiva's back, as a careless hand (or a newer
    /// release whose migration changed nothing else) would.
    public func setSchemaVersion(_ version: Int) throws {
        _ = try text(dialect(sqlite: "PRAGMA user_version = \(version)", postgresql: "UPDATE schema_version SET version = \(version)"))
    }
}
