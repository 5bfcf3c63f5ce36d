import MassivaDatabase

/// One step of the database's schema, from version `version - 1` to `version`.
///
/// Migrations run in order at open, each in one transaction together with the `PRAGMA
/// user_version` that records it: a crash (kill -9) during one leaves the database at the
/// version before it, and the next open runs it again. A new table or column is one more
/// migration at the end of `Schema.migrations`; a released migration is never edited.
public struct Migration: Sendable {
    public let version: Int
    /// What it changes, for the log and `massiva check`.
    public let summary: String
    /// The change, run inside the migration's transaction.
    public let apply: @Sendable (Database) throws -> Void

    public init(version: Int, summary: String, apply: @escaping @Sendable (Database) throws -> Void) {
        self.version = version
        self.summary = summary
        self.apply = apply
    }

    /// A migration that is a script of SQL statements: `sql` on SQLite, `postgresql` (by
    /// default `Schema.postgresql[version]`, the same step in PostgreSQL's dialect) on
    /// PostgreSQL. A migration without a PostgreSQL text fails there, naming its version.
    public init(version: Int, summary: String, sql: String, postgresql: String? = nil) {
        let postgresText = postgresql ?? Schema.postgresql[version]
        self.init(version: version, summary: summary) { database in
            switch database.engine {
            case .sqlite: try database.execute(sql)
            case .postgresql:
                guard let postgresText else { throw MigrationWithoutPostgreSQLText(version: version) }
                try database.execute(postgresText)
            }
        }
    }
}

/// A migration has no text in PostgreSQL's dialect: a program error, caught by the tests
/// (every migration of `Schema.migrations` has one in `Schema.postgresql`).
public struct MigrationWithoutPostgreSQLText: Error, CustomStringConvertible, Sendable {
    public let version: Int
    public var description: String { "migration \(version) has no PostgreSQL text" }
}
