import Foundation
import Testing
import MassivaConfig
import MassivaDatabase
import MassivaDomain
import MassivaProcessing
import MassivaRegistry
import MassivaSpool
import MassivaStore
import MassivaSystem
import MassivaTestSupport

/// A copy of `Fixtures/schema-1.db` (made by the first release, see make-schema-1.sh) in a spool
/// of its own, removed at the end.
final class FixtureSpool {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Fixtures/schema-1.db"

    let root: String
    let configuration: Configuration
    var databasePath: String { root + "/spool/private/massiva.db" }

    init() throws {
        root = NSTemporaryDirectory() + "massiva-store-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/spool/private", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.fixture, toPath: root + "/spool/private/massiva.db")
        var configuration = Configuration.defaults
        configuration.spoolDirectory = root + "/spool"
        configuration.settleTime = 0
        self.configuration = configuration
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// The rows of every table, read without the schema owner (no migration runs).
    func rawCounts() throws -> [String: Int] {
        let db = try Database(path: databasePath)
        var counts: [String: Int] = [:]
        for table in ["tenants", "requests", "rows", "association_lists", "pods", "devices", "probe_counts", "associations", "audit"] {
            counts[table] = try db.queryOne("SELECT count(*) FROM \(table)", []) { $0.int(0) } ?? -1
        }
        return counts
    }

    func schemaSQL(_ db: Database) throws -> [String] {
        try db.query("SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name", []) {
            $0.text(0)
        }
    }
}

@Suite struct MigrationTests {
    @Test func migrationsAreNumberedOneByOneFromOne() {
        #expect(Schema.migrations.map(\.version) == Array(1...Schema.migrations.count))
        #expect(Schema.currentVersion == Schema.migrations.count)
    }

    /// The first release wrote no version; opening its database records version 1 and changes
    /// nothing else.
    @Test func theFirstReleasesDatabaseOpensAndKeepsEveryRecord() throws {
        let spool = try FixtureSpool()
        let before = try spool.rawCounts()
        #expect(try Schema.version(of: Database(path: spool.databasePath)) == 0)
        #expect(before == ["tenants": 2, "requests": 9, "rows": 10, "association_lists": 2, "pods": 10, "devices": 9,
                           "probe_counts": 1, "associations": 5, "audit": 16])

        let opened = try OpenedSpool.open(spool.configuration)
        #expect(try Schema.version(of: opened.store.database) == Schema.currentVersion)
        #expect(try spool.rawCounts() == before)
        // Migration 2: the SI accounts, a table the first release did not have.
        #expect(try opened.store.accounts().isEmpty)
        try opened.store.addAccount(Account(login: "mrossi", tenant: "acme", person: PersonName(givenName: "Mario", surname: "Rossi"),
                                            uid: 1001, createdAt: 0))
        #expect(try opened.store.configuratorName(login: "mrossi", tenant: "acme") == "Mario Rossi")

        // Every status, as the first release left them.
        let requests = try opened.store.requests(tenant: nil)
        #expect(requests.map(\.status) == [.queued, .rejected, .cancelled, .processing, .rejected, .done, .done, .done, .done])
        #expect(requests.map(\.outcomeLabel).contains("Lavorato con errori: raggiunto massimo numero di tentativi"))
        #expect(requests.map(\.outcomeLabel).contains("Lavorato con errori"))
        #expect(try opened.store.request(RequestID(7))?.note == "annullata su richiesta")

        // The waiting retry: still waiting, its attempt and its due time kept.
        let waiting = try #require(requests.first { $0.status == .processing })
        let row = try #require(try opened.store.rows(of: waiting.id).first)
        #expect(row.state == .waiting && row.code == .meterUnreachable && row.attempts == 1)
        #expect(row.configurationType == .standard)
        #expect(row.nextAttemptAt == waiting.nextDueAt && (row.nextAttemptAt ?? 0) > waiting.submittedAt + 86_000)

        // Tenants, associations through the registry protocol, the audit trail.
        let tenants = try opened.store.tenants()
        #expect(tenants.map(\.id) == ["acme", "voltaic"] && tenants.map(\.enabled) == [true, false])
        var listed: [ListedAssociation] = []
        try opened.registry.eachAssociation(tenant: nil) { listed.append($0) }
        #expect(listed.count == 5)
        #expect(listed.filter(\.isGesis).map(\.association.pod) == ["IT001E00000006"])
        #expect(listed.first { $0.association.pod == "IT001E00000002" }?.association.productionPOD == "IT001E00000102")
        let audit = try AuditTrail(database: opened.store.database).entries()
        #expect(audit.count == 16)
        #expect(Set(audit.map(\.action)) == [.bulkRow, .search, .associate, .dissociate])

        // The audit trail is still append-only.
        #expect(throws: DatabaseError.self) { try opened.store.database.execute("DELETE FROM audit") }
    }

    /// Migration 5 (the metrics) starts its tallies from what a spool already holds: final
    /// requests by tenant and status, their rows by final code (not the waiting row); the old
    /// requests have no drop time and count in no latency, not even when written again.
    @Test func theMetricsTalliesStartFromWhatTheSpoolHolds() throws {
        let spool = try FixtureSpool()
        let opened = try OpenedSpool.open(spool.configuration)
        let metrics = MetricsStore(database: opened.store.database)
        let m = try metrics.snapshot(now: 2_000_000_000)
        #expect(m.requests == [TenantKey("acme", .done): 3, TenantKey("acme", .cancelled): 1,
                               TenantKey("voltaic", .done): 1, TenantKey("voltaic", .rejected): 2])
        #expect(m.rows == [TenantKey("acme", .invalidPOD): 1, TenantKey("acme", .podNotTelemanaged): 1,
                           TenantKey("acme", .deviceNotFound): 1, TenantKey("acme", .duplicatePOD): 1,
                           TenantKey("acme", .maxAttemptsReached): 1, TenantKey("acme", .ok): 3, TenantKey("voltaic", .ok): 1])
        #expect(m.refusedUploads.isEmpty)
        #expect(m.queued == 1 && m.processing == 1 && m.waitingRows == 1)
        #expect(m.registryOutages == 0 && !m.registryOutageInProgress)
        try opened.store.database.execute("UPDATE requests SET results_version = state_version")
        #expect(try metrics.snapshot(now: 2_000_000_000).latencyBuckets.allSatisfy { $0 == 0 })
    }

    /// Migration 7: the drop-to-result latency ends at the time the store is given when the
    /// files are recorded (a bound parameter), not at SQLite's own clock; once per request, as
    /// migration 5's trigger counted it. No trigger of the schema reads the clock.
    @Test func migration7TakesTheResultTimeFromTheStore() throws {
        let spool = try FixtureSpool()
        let db = try Database(path: spool.databasePath)
        try Schema.migrate(db, migrations: Array(Schema.migrations.prefix(6)))
        let opened = try OpenedSpool.open(spool.configuration)
        #expect(try Schema.version(of: opened.store.database) == Schema.currentVersion)  // 7 and those after it
        let triggers = try opened.store.database.query("SELECT sql FROM sqlite_master WHERE type = 'trigger'", []) { $0.text(0) }
        #expect(!triggers.isEmpty)
        #expect(triggers.allSatisfy { !$0.contains("'now'") }, "\(triggers)")

        let store = opened.store
        let dropped = 1_900_000_000.0  // years ahead of the fixture, and of any test's clock
        let id = try store.createRequest(tenant: "acme", fileName: "x.csv", configurator: "op", claimName: nil, content: nil,
                                         rejection: .tenantDisabled, now: dropped + 1, droppedAt: dropped)
        let before = try MetricsStore(database: store.database).snapshot(now: dropped)
        try store.markResultsWritten(id, version: 1, now: dropped + 40)
        let after = try MetricsStore(database: store.database).snapshot(now: dropped)
        let index60 = try #require(MetricsSnapshot.latencyBounds.firstIndex(of: 60))
        #expect(after.latencyBuckets[index60] == before.latencyBuckets[index60] + 1)
        #expect(after.latencySum - before.latencySum == 40)
        // Written again (a later state): the request counts once.
        try store.setNote(id, "again")
        try store.markResultsWritten(id, version: 2, now: dropped + 4000)
        let again = try MetricsStore(database: store.database).snapshot(now: dropped)
        #expect(again.latencyBuckets == after.latencyBuckets && again.latencySum == after.latencySum)
    }

    /// Migration 1 on the first release's database gives the same schema as on a new file.
    @Test func aMigratedDatabaseHasTheSchemaOfANewOne() throws {
        let spool = try FixtureSpool()
        let migrated = try Schema.open(path: spool.databasePath)
        let fresh = try Schema.open(path: spool.root + "/fresh.db")
        #expect(try spool.schemaSQL(migrated) == spool.schemaSQL(fresh))
        #expect(try Schema.version(of: fresh) == Schema.currentVersion)
    }

    /// The engine of this release takes up the first release's queue where it was.
    @Test func theEngineGoesOnWithTheFirstReleasesQueue() throws {
        let spool = try FixtureSpool()
        // The fixture was made at 1795939483 (its uploads' submitted_at); its waiting row is due
        // at 1796031275.9. The engine runs on a clock a minute after the fixture was made, never
        // on the calendar: with the wall clock this test turned red on the day the retry fell due.
        let now = 1_795_939_483.0 + 60
        let engine = try Engine.open(configuration: spool.configuration, clock: FakeClock(now).clock, log: EventLog(sink: { _ in }))
        for tenant in try engine.store.tenants() {
            for d in [engine.layout.incoming(tenant.id), engine.layout.results(tenant.id),
                      engine.layout.claimDirectory(tenant.id), engine.layout.refusedDirectory(tenant.id)] {
                try FileSystem.makeDirectory(d, intermediate: true)
            }
        }
        try engine.runUntilIdle()
        // The queued request is done now; the waiting row was not due, so it still waits.
        #expect(try engine.store.request(RequestID(9))?.status == .done)
        #expect(try engine.store.rows(of: RequestID(9)).map(\.code) == [.ok])
        #expect(try engine.store.rows(of: RequestID(6)).map(\.attempts) == [1])
        // Made due now, it is tried again (flaky:1000 still fails: attempt 2, waiting).
        try engine.store.makeDueNow(RequestID(6), now: now)
        try engine.runUntilIdle()
        let row = try #require(try engine.store.rows(of: RequestID(6)).first)
        #expect(row.attempts == 2 && row.state == .waiting)
        // Its result files were written from the old records.
        #expect(FileManager.default.fileExists(atPath: engine.layout.resultFolder("acme", "MOME-000000006") + "/esito.csv"))
    }

    @Test func aDatabaseOfANewerReleaseIsRefusedAndLeftAlone() throws {
        let spool = try FixtureSpool()
        let db = try Schema.open(path: spool.databasePath)
        try db.execute("PRAGMA user_version = \(Schema.currentVersion + 1)")
        let error = #expect(throws: SchemaError.self) { _ = try OpenedSpool.open(spool.configuration) }
        #expect(error == .newerThanBinary(path: spool.databasePath, found: Schema.currentVersion + 1, supported: Schema.currentVersion))
        #expect(error?.description.contains("newer than this massiva knows") == true)
        #expect(try Schema.version(of: db) == Schema.currentVersion + 1)
    }

    /// A new table is one more migration: the next open adds it and keeps the rest.
    @Test func aNewTableIsOneMoreMigration() throws {
        let spool = try FixtureSpool()
        let before = try spool.rawCounts()
        let accounts = Migration(version: Schema.currentVersion + 1, summary: "notes", sql: """
            CREATE TABLE notes(request INTEGER NOT NULL REFERENCES requests(id), text TEXT NOT NULL);
            """)
        let db = try Database(path: spool.databasePath)
        let ran = try Schema.migrate(db, migrations: Schema.migrations + [accounts])
        #expect(ran.map(\.version) == Array(1...accounts.version))
        #expect(try Schema.version(of: db) == accounts.version)
        try db.run("INSERT INTO notes VALUES(1, 'checked')")
        #expect(try spool.rawCounts() == before)
        // Run again: nothing left to do.
        #expect(try Schema.migrate(db, migrations: Schema.migrations + [accounts]).isEmpty)
    }

    /// A migration that fails half-way leaves nothing of itself, and the version before it.
    @Test func aFailingMigrationLeavesNothingHalfDone() throws {
        let spool = try FixtureSpool()
        let broken = Migration(version: Schema.currentVersion + 1, summary: "broken", sql: """
            CREATE TABLE half(x INTEGER);
            INSERT INTO no_such_table VALUES(1);
            """)
        let db = try Database(path: spool.databasePath)
        #expect(throws: DatabaseError.self) { try Schema.migrate(db, migrations: Schema.migrations + [broken]) }
        #expect(try Schema.version(of: db) == Schema.currentVersion)
        #expect(try db.queryOne("SELECT count(*) FROM sqlite_master WHERE name = 'half'", []) { $0.int(0) } == 0)
    }

    /// Migration 3 splits the names of the accounts made before it at the first space, and
    /// gives the requests and associations of the same tenant and name their parts; the rest
    /// (another tenant's, a login) keeps no parts. Nothing else changes.
    @Test func migration3SplitsAccountNamesAndBackfillsTheirAssociations() throws {
        let spool = try FixtureSpool()
        let db = try Database(path: spool.databasePath)
        try Schema.migrate(db, migrations: Array(Schema.migrations.prefix(2)))
        #expect(try Schema.version(of: db) == 2)
        try db.execute("""
            INSERT INTO accounts(login, tenant, name, uid, created_at) VALUES
                ('mrossi', 'acme', 'Mario Rossi', 1001, 0), ('adeluca', 'acme', 'Anna De Luca', 1002, 0),
                ('cher', 'acme', 'Cher', 1003, 0), ('vrossi', 'voltaic', 'root', 1004, 0);
            UPDATE associations SET configurator = 'Anna De Luca' WHERE pod = 'IT001E00000001';
            UPDATE associations SET configurator = 'Mario Rossi' WHERE pod = 'IT001E00000007';
            UPDATE requests SET configurator = 'Mario Rossi' WHERE id = 1;
            """)
        let before = try spool.rawCounts()
        let opened = try OpenedSpool.open(spool.configuration)
        #expect(try Schema.version(of: opened.store.database) == Schema.currentVersion)  // 3 and those after it
        #expect(try spool.rawCounts() == before)
        let people = Dictionary(uniqueKeysWithValues: try opened.store.accounts().map { ($0.login, $0.person) })
        #expect(people["mrossi"] == PersonName(givenName: "Mario", surname: "Rossi"))
        #expect(people["adeluca"] == PersonName(givenName: "Anna", surname: "De Luca"))
        #expect(people["cher"] == PersonName(givenName: "", surname: "Cher"))
        #expect(try opened.store.account(login: "adeluca")?.name == "Anna De Luca")
        let registry = try EmbeddedRegistry(database: opened.store.database)
        #expect(try registry.association(pod: "IT001E00000001")?.configuratorPerson == PersonName(givenName: "Anna", surname: "De Luca"))
        // Mario Rossi is an account of acme, and this association is voltaic's: no parts.
        #expect(try registry.association(pod: "IT001E00000007")?.configuratorPerson == .unknown)
        // voltaic's account named "root" gives its parts to voltaic's "root" rows only.
        #expect(try registry.association(pod: "IT001E00000009")?.configuratorPerson == .unknown)
        #expect(try opened.store.request(RequestID(1))?.configuratorPerson == PersonName(givenName: "Mario", surname: "Rossi"))
        #expect(try opened.store.request(RequestID(2))?.configuratorPerson == .unknown)
    }
}
