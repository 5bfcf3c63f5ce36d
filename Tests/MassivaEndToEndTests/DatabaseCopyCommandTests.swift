import Foundation
import Glibc
import Testing
import MassivaTestSupport

/// `massiva database copy --to URI`, through the binary, from a real spool's SQLite database
/// into a real PostgreSQL 15 database (the tests' throwaway cluster).
@Suite struct DatabaseCopyCommandTests {
    /// The name of the database a cluster URI (`postgresql:///NAME?host=...`) names.
    static func name(of uri: String) -> String {
        String(uri.dropFirst("postgresql:///".count).prefix { $0 != "?" })
    }

    /// How many relations the database's public schema holds: 0 for one nothing was written to.
    static func relations(_ uri: String) throws -> String {
        try PostgresCluster.shared().psql("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace",
                                          database: name(of: uri))
    }

    /// What the operator's commands show of the spool, each output as it was printed. `report`
    /// and `search` record themselves in the audit trail, which `audit` shows: they run first
    /// (`auditedFirst`, on SQLite before the copy) or last (on PostgreSQL after it), so that
    /// `audit` shows the same entries on both.
    static func views(_ spool: Spool, auditedFirst: Bool) throws -> [String: String] {
        var seen: [String: String] = [:]
        let audited: [[String]] = [
            ["report", "--all-tenants", "--all", "--csv"],
            ["search", "IT001E00000002", "--tenant", "acme", "--csv"],
        ]
        let readOnly: [[String]] = [
            ["status"],
            ["tenant", "list", "--csv"],
            ["account", "list", "--csv"],
            ["list", "--tenant", "acme", "--csv"],
            ["list", "--tenant", "voltaic", "--csv"],
            ["show", "MOME-000000001", "--csv"],
            ["show", "MOME-000000002", "--csv"],
            ["show", "MOME-000000003", "--csv"],
            ["audit", "--tenant", "acme", "--csv"],
            ["audit", "--pod", "IT001E00000002", "--csv"],
        ]
        for command in auditedFirst ? audited + readOnly : readOnly + audited {
            let r = try spool.run(command)
            // `status` says 3: no daemon runs.
            #expect(r.status == (command == ["status"] ? 3 : 0), "massiva \(command.joined(separator: " ")): \(r.stderr)")
            seen[command.joined(separator: " ")] = r.stdout
        }
        return seen
    }

    /// A spool that has worked: the sample registry and tenants, the sample requests processed
    /// (associations, rows refused and retried, probe counts, audit entries, metrics), association events waiting for a receiver that
    /// fails (the outbox), an SI account and a registry outage on record: every table has rows.
    /// Copied, verified, and the same commands on PostgreSQL show what they showed on SQLite;
    /// the next request there takes the next id.
    @Test func aWorkedSpoolIsCopiedAndTheCommandsSeeTheSameOnPostgreSQL() throws {
        let spool = try Spool(embedded: true)  // the embedded database is what is copied
        try spool.setUpSamples()
        try spool.script("receiver", "exit 1")
        try spool.appendConfig("association_command = \(spool.root)/receiver ${key}")
        try spool.copySample("acme-clean.csv", to: "acme")
        try spool.copySample("voltaic-excel.csv", to: "voltaic")
        try spool.copySample("acme-every-error.csv", to: "acme")
        // Retries (flaky PODs, up to max_attempts) fall due within seconds (backoff 1 s to 2 s).
        try spool.serveUntil {
            try spool.sqlInt("SELECT count(*) FROM requests WHERE status IN ('done', 'rejected')") == 3
        }
        _ = try spool.sql("""
            INSERT INTO accounts(login, tenant, name, uid, created_at, given_name, surname)
                VALUES('mrossi', 'acme', 'Mario Rossi', 1001, 1767268800.25, 'Mario', 'Rossi');
            INSERT INTO registry_outages(started_at, ended_at) VALUES(1767268800.5, 1767268860.125);
            """)
        let before = try Self.views(spool, auditedFirst: true)
        let tables = try spool.sql("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name")
            .map { $0[0] }
        var counts: [String: String] = [:]
        for table in tables { counts[table] = try spool.sql("SELECT count(*) FROM \"\(table)\"")[0][0] }
        #expect(tables.count == 15)
        #expect(counts.values.allSatisfy { $0 != "0" }, "every table has rows: \(counts)")

        let uri = try PostgresCluster.shared().createDatabase()
        let copy = try spool.run(["database", "copy", "--to", uri])
        #expect(copy.status == 0, "\(copy.stderr)")
        let lines = copy.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "copied \(spool.database) into \(uri), verified:")
        for table in tables {
            let line = lines.first { $0.hasPrefix(table + " ") }?.split(separator: " ").map(String.init)
            #expect(line?.count == 3, "\(table): \(copy.stdout)")
            #expect(line?[1] == counts[table], "\(table)'s rows")
            #expect(line?[2].count == 64, "\(table)'s checksum")
        }
        #expect(lines.contains("    database = \(uri)"), "\(copy.stdout)")
        #expect(copy.stdout.contains("\(spool.database) stays as it was copied"))
        #expect(copy.stderr.contains("massiva database copy: verifying requests"), "progress on stderr: \(copy.stderr)")
        #expect(FileManager.default.fileExists(atPath: spool.database))

        try spool.appendConfig("database = \(uri)")
        let after = try Self.views(spool, auditedFirst: false)
        for (command, output) in before.sorted(by: { $0.key < $1.key }) {
            #expect(after[command] == output, "massiva \(command) on PostgreSQL")
        }
        #expect(try spool.run(["check"]).stdout == "OK\n")
        // The next request goes on from the last id SQLite gave, on PostgreSQL alone.
        let last = try spool.sqlInt("SELECT max(id) FROM requests")
        let submitted = try spool.ok(["submit", "--tenant", "acme", samplesDirectory + "/requests/acme-every-error.csv"])
        #expect(submitted.stdout == String(format: "MOME-%09d\n", last + 1))
        try spool.ok(["serve", "--once"])
        #expect(try spool.sqlInt("SELECT max(id) FROM requests") == last, "the SQLite file is left as it was")
        #expect(try PostgresCluster.shared().psql("SELECT count(*) FROM requests", database: Self.name(of: uri)) == String(last + 1))
    }

    /// Each refusal says why, exits as documented and writes nothing to the target: no `--to`, a
    /// URI that is not PostgreSQL's or has a password, a server out of reach, a target with
    /// massiva's tables, a running daemon, a spool already on PostgreSQL.
    @Test func refusalsWriteNothing() throws {
        let spool = try Spool(embedded: true)  // the embedded database is what is copied
        try spool.setUpSamples()
        let cluster = try PostgresCluster.shared()

        #expect(try spool.run(["database", "copy"]).status == 2)
        let sqlite = try spool.run(["database", "copy", "--to", "sqlite"])
        #expect(sqlite.status == 2 && sqlite.stderr.contains("--to takes a postgresql:// URI"), "\(sqlite.stderr)")
        let password = try spool.run(["database", "copy", "--to", "postgresql://massiva:s3cret@127.0.0.1/massiva"])
        #expect(password.status == 2 && password.stderr.contains("~/.pgpass"), "\(password.stderr)")
        #expect(!password.stderr.contains("s3cret") && !password.stdout.contains("s3cret"))

        // Port 1 of the loopback: refused at once.
        let unreachable = try spool.run(["database", "copy", "--to", "postgresql://127.0.0.1:1/massiva"])
        #expect(unreachable.status == 2)
        #expect(unreachable.stderr.hasPrefix("massiva: database postgresql://127.0.0.1:1/massiva: "), "\(unreachable.stderr)")

        let taken = try cluster.createDatabase()
        try cluster.psql("CREATE TABLE tenants(id TEXT)", database: Self.name(of: taken))
        let notEmpty = try spool.run(["database", "copy", "--to", taken])
        #expect(notEmpty.status == 2)
        #expect(notEmpty.stderr.contains("is not empty: it has tenants"), "\(notEmpty.stderr)")
        #expect(try Self.relations(taken) == "1", "only the table that was there")

        let target = try cluster.createDatabase()
        let daemon = try spool.start(["serve"])
        defer {
            if daemon.process.isRunning { Glibc.kill(daemon.process.processIdentifier, SIGTERM) }
            _ = spool.finish(daemon)
        }
        #expect(try waitUntil { try spool.run(["status"]).status == 0 }, "the daemon runs")
        let running = try spool.run(["database", "copy", "--to", target])
        #expect(running.status == 1)
        #expect(running.stderr.contains("massiva serve is running on \(spool.spool) (pid \(daemon.process.processIdentifier)"),
                "\(running.stderr)")
        #expect(try Self.relations(target) == "0")
        Glibc.kill(daemon.process.processIdentifier, SIGTERM)
        #expect(spool.finish(daemon).status == 0)
        // Stopped, the same spool is copied into the same database.
        try spool.ok(["database", "copy", "--to", target])

        try spool.appendConfig("database = \(target)")
        let other = try cluster.createDatabase()
        let configured = try spool.run(["database", "copy", "--to", other])
        #expect(configured.status == 2)
        #expect(configured.stderr.contains("the spool's database is already PostgreSQL"), "\(configured.stderr)")
        #expect(try Self.relations(other) == "0")
    }
}
