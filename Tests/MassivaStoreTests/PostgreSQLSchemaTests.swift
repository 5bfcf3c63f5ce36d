import Testing
@testable import MassivaStore

/// The PostgreSQL texts of the migrations (`Schema.postgresql`) keep step with SQLite's: one per
/// version, each starting with the marker `Tests/system/pg-schema-check` extracts it by (that
/// script runs them on a real PostgreSQL and compares the result with SQLite's).
@Suite struct PostgreSQLSchemaTests {
    @Test func everyMigrationHasItsPostgreSQLText() {
        #expect(Schema.postgresql.keys.sorted() == Schema.migrations.map(\.version))
    }

    @Test func eachTextStartsWithItsMarker() {
        for (version, sql) in Schema.postgresql {
            #expect(sql.hasPrefix("-- massiva-pg-migration \(version)\n"), "migration \(version)")
        }
        #expect(Schema.postgresqlVersionTable.hasPrefix("-- massiva-pg-version-table\n"))
    }
}
