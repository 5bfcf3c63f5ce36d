import Glibc
import MassivaDatabase

/// Which engine the suites run on: the embedded SQLite file by default; a fresh database of
/// the process's PostgreSQL test cluster (`PostgresCluster.shared()`) when the environment says
/// `MASSIVA_TEST_DATABASE=postgresql` (scripts/test runs the store, engine and service suites a
/// second time so).
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
