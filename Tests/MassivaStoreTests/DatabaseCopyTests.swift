import Testing
import MassivaDatabase
@testable import MassivaStore
import MassivaTestSupport

/// `DatabaseCopy` from a real SQLite file into a real PostgreSQL 15 database (the tests'
/// throwaway cluster): every table and value as it was, ids going on past SQLite's, the
/// triggers standing, and every failure leaving the target empty.
@Suite struct DatabaseCopyTests {
    /// A SQLite database at the current schema, in a folder removed with it.
    final class Source {
        let folder: TemporaryDirectory
        let database: Database
        init() throws {
            folder = try TemporaryDirectory(prefix: "massiva-dbcopy")
            database = try Schema.open(path: folder.path + "/massiva.db")
        }
    }

    static func emptyTarget() throws -> Database {
        try Database(location: .postgresql(uri: try PostgresCluster.shared().createDatabase()))
    }

    /// Text that COPY's text format, PostgreSQL's parser and a checksum could each get wrong.
    static let hostileText = "Perù — città ☃︎ 𝄞 👩🏽‍💻 e\u{301}\ttab\nnewline\r\\backslash \\N \\. '\"; end\t"
    static let blob: [UInt8] = Array(0...255) + [92, 9, 10, 13, 0, 78]

    static func insert(_ db: Database, _ table: String, _ values: KeyValuePairs<String, SQLValue>) throws {
        let columns = values.map(\.key)
        try db.run("INSERT INTO \(table)(\(columns.joined(separator: ", "))) VALUES(\(columns.map { _ in "?" }.joined(separator: ", ")))",
                   values.map(\.value))
    }

    /// A row or more in every table, with NULLs beside empty texts, doubles that decimal text
    /// would round, blobs of every byte; and ids SQLite will not give again (a last request and
    /// a last outbox event deleted).
    static func fillEveryTable(_ db: Database) throws {
        try insert(db, "tenants", ["id": .text("acme"), "name": .text("ACME Impianti S.r.l."), "enabled": .int(1), "created_at": .double(1_767_268_800.5)])
        try insert(db, "tenants", ["id": .text("beta"), "name": .text(hostileText), "enabled": .int(0), "created_at": .double(0.1)])
        try insert(db, "accounts", ["login": .text("mrossi"), "tenant": .text("acme"), "name": .text("Mario Rossi"), "uid": .int(1001),
                                    "created_at": .double(1e300), "given_name": .text("Mario"), "surname": .text("Rossi")])
        for id in 1...3 {
            try insert(db, "requests", [
                "id": .int(id), "tenant": .text("acme"), "file_name": .text("lotto \(id).csv"), "configurator": .text("Mario Rossi"),
                "claim_name": id == 2 ? .null : .text("claim-\(id)"), "status": .text(id == 1 ? "done" : "queued"),
                "reason": id == 1 ? .null : .text(""), "note": .text(hostileText), "content": .blob(blob),
                "rows_total": .int(2), "rows_processed": .int(id == 1 ? 2 : 0), "submitted_at": .double(1_767_268_800.123456789),
                "completed_at": id == 1 ? .double(0.1 + 0.2) : .null, "content_digest": .blob(Array(repeating: UInt8(id), count: 32)),
                "configurator_given_name": .text("Mario"), "configurator_surname": .text("Rossi"), "dropped_at": .double(.leastNonzeroMagnitude),
            ])
        }
        try db.run("DELETE FROM requests WHERE id = 3")
        for position in 0...1 {
            try insert(db, "rows", [
                "request": .int(1), "position": .int(position), "line": .int(position + 2), "pod": .text("IT001E0000000\(position + 1)"),
                "sid": .text("16SMISF8100000001"), "configuration": .text("Standard"), "state": .text("done"), "code": .text("OK"),
                "detail": position == 0 ? .null : .text(""), "attempts": .int(1), "processed_at": .double(-1.5),
            ])
        }
        try insert(db, "association_lists", ["tenant": .text("acme"), "state_version": .int(3), "results_version": .int(2),
                                             "written_through_at": .double(0.30000000000000004), "written_through_pod": .text("IT001")])
        try insert(db, "request_lists", ["tenant": .text("acme"), "state_version": .int(Int.max), "results_version": .int(Int.min)])
        try insert(db, "pods", ["pod": .text("IT001E00000001"), "eneltel": .text("100000001"), "matricola": .text("ABCDE00001"),
                                "meter_type": .text("M1"), "exchange_pod": .null, "telemanaged": .int(1), "eligible": .int(1),
                                "reachability": .text("reachable"), "holder_tax_code": .text("RSSMRA80A01H501U")])
        try insert(db, "pods", ["pod": .text("IT001E00000011"), "eneltel": .text(""), "matricola": .text("ABCDE00011"),
                                "meter_type": .text("M2"), "exchange_pod": .text("IT001E00000001"), "telemanaged": .int(0), "eligible": .int(0),
                                "reachability": .text("flaky:1"), "holder_tax_code": .text("01234567890")])
        try insert(db, "devices", ["sid": .text("16SMISF8100000001"), "nid": .text("DC2620000001"), "device_type": .text("Smart Info"),
                                   "owner": .text("acme")])
        try insert(db, "probe_counts", ["pod": .text("IT001E00000001"), "probes": .int(3)])
        try insert(db, "associations", ["pod": .text("IT001E00000001"), "sid": .text("16SMISF8100000001"), "nid": .text("DC2620000001"),
                                        "device_type": .text("Smart Info"), "configuration_type": .text("Standard"), "production_pod": .null,
                                        "tenant": .text("acme"), "configurator": .text("Mario Rossi"), "request": .text("MOME-000000001"),
                                        "created_at": .double(-0.0)])
        let audit = AuditTrail(database: db)
        try audit.record(AuditEntry(at: 1.25, tenant: "acme", configurator: "Mario Rossi", action: .search, pod: "IT001E00000001",
                                    outcome: "OK", detail: hostileText))
        try audit.record(AuditEntry(at: 2.5, tenant: "acme", configurator: "Mario Rossi", action: .bulkRow, pod: "IT001E00000001",
                                    sid: "16SMISF8100000001", request: "MOME-000000001", outcome: "OK"))
        for id in 1...2 {
            try insert(db, "outbox", ["id": .int(id), "event": .text("associated"), "pod": .text("IT001E00000001"), "sid": .text("16SMISF8100000001"),
                                      "nid": .text("DC2620000001"), "tenant": .text("acme"), "request": .null, "created_at": .double(10),
                                      "attempts": .int(2), "next_attempt_at": .double(12.75), "last_error": .text("exit 1: \\N")])
        }
        try db.run("DELETE FROM outbox WHERE id = 2")
        try insert(db, "metric_counts", ["metric": .text("rows"), "tenant": .text("acme"), "key": .text("OK"), "value": .double(2)])
        try insert(db, "registry_outages", ["id": .int(1), "started_at": .double(100.25), "ended_at": .null])
        try insert(db, "registry_outages", ["id": .int(2), "started_at": .double(200), "ended_at": .double(300)])
        try db.run("DELETE FROM registry_outages WHERE id = 2")
        try insert(db, "leader_lease", ["spool": .text("/srv/massiva"), "holder": .text("node@host:42:1500000"), "term": .int(7),
                                        "expires_at": .double(1e10), "node": .text("node"), "host": .text("host"), "pid": .int(42),
                                        "started_at": .double(1.5), "acquired_at": .double(2.5)])
    }

    static func count(_ db: Database, _ sql: String) throws -> Int { try db.queryOne(sql, []) { $0.int(0) } ?? -1 }

    /// How many relations the target's schema holds: 0 is the empty database a failed copy leaves.
    static func relations(_ db: Database) throws -> Int {
        try count(db, "SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace")
    }

    @Test func everyTableIsCopiedAndVerified() throws {
        let source = try Source()
        try Self.fillEveryTable(source.database)
        let target = try Self.emptyTarget()
        var steps: [String] = []
        let tallies = try DatabaseCopy(from: source.database, to: target).run { steps.append($0) }

        let tables = try source.database.query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name", []) { $0.text(0) }
        #expect(tables.count == 15)
        #expect(tallies.map(\.table) == tables)
        for tally in tallies {
            #expect(tally.rows > 0, "\(tally.table) has rows to copy")
            #expect(tally.rows == (try Self.count(source.database, "SELECT count(*) FROM \"\(tally.table)\"")), "\(tally.table)")
            #expect(tally.rows == (try Self.count(target, "SELECT count(*) FROM \"\(tally.table)\"")), "\(tally.table)")
            #expect(tally.checksum.count == 64)
        }
        #expect(steps.contains("copying requests") && steps.contains("verifying audit"), "\(steps)")
        #expect(try Schema.version(of: target) == Schema.currentVersion)

        // What the store reads is what it read on SQLite, values exact.
        #expect(try StateStore(database: target).tenants() == (try StateStore(database: source.database).tenants()))
        #expect(try AuditTrail(database: target).entries() == (try AuditTrail(database: source.database).entries()))
        #expect(try target.queryOne("SELECT name FROM tenants WHERE id = 'beta'", []) { $0.text(0) } == Self.hostileText)
        #expect(try target.queryOne("SELECT content FROM requests WHERE id = 1", []) { $0.blob(0) } == Self.blob)
        #expect(try target.queryOne("SELECT completed_at FROM requests WHERE id = 1", []) { $0.double(0) } == 0.1 + 0.2)
        #expect(try target.queryOne("SELECT dropped_at FROM requests WHERE id = 2", []) { $0.double(0) } == .leastNonzeroMagnitude)
        #expect(try Self.count(target, "SELECT count(*) FROM requests WHERE reason IS NULL") == 1)
        #expect(try Self.count(target, "SELECT count(*) FROM requests WHERE reason = ''") == 1)
        // The tallies were copied, not counted again by the request trigger as requests arrived.
        #expect(try target.queryOne("SELECT value FROM metric_counts WHERE metric = 'requests' AND tenant = 'acme' AND key = 'done'", []) {
            $0.double(0)
        } == 1)

        // Ids go on past every one SQLite gave: a deleted last request's and outbox event's too.
        let nextRequest = try target.queryOne("""
            INSERT INTO requests(tenant, file_name, configurator, status, submitted_at) VALUES('acme', 'n.csv', 'x', 'queued', 1) RETURNING id
            """, []) { $0.int(0) }
        #expect(nextRequest == 4)
        #expect(try target.queryOne("""
            INSERT INTO outbox(event, pod, sid, nid, tenant, created_at) VALUES('associated', 'p', 's', 'n', 'acme', 1) RETURNING id
            """, []) { $0.int(0) } == 3)
        #expect(try target.queryOne("INSERT INTO registry_outages(started_at) VALUES(1) RETURNING id", []) { $0.int(0) } == 2)
        try AuditTrail(database: target).record(AuditEntry(at: 3, tenant: "acme", configurator: "x", action: .search, pod: "p", outcome: "OK"))
        #expect(try Self.count(target, "SELECT max(id) FROM audit") == 3)
        // The audit trail's triggers stand again: an entry cannot be changed or removed.
        #expect(throws: DatabaseError.self) { try target.run("UPDATE audit SET detail = 'changed' WHERE id = 1") }
        #expect(throws: DatabaseError.self) { try target.run("DELETE FROM audit WHERE id = 1") }
        // And the metrics' trigger counts what happens from now on.
        try target.run("UPDATE requests SET status = 'done' WHERE id = 2")
        #expect(try target.queryOne("SELECT value FROM metric_counts WHERE metric = 'requests' AND tenant = 'acme' AND key = 'done'", []) {
            $0.double(0)
        } == 2)
    }

    /// The checksum is one function over the values as stored, the same on both engines: rows
    /// inserted (with bound values, not COPY) in a different order on each hash the same, and any
    /// one value changed (NULL for '', 0.1 by one ulp, one byte of a blob, one character) or a
    /// row more makes them differ.
    @Test func theChecksumIsTheSameOnBothEnginesAndTellsEveryDifference() throws {
        let source = try Source()
        let target = try Self.emptyTarget()
        try source.database.execute("CREATE TABLE t(k TEXT PRIMARY KEY, i INTEGER, r REAL, s TEXT, b BLOB)")
        try target.execute("CREATE TABLE t(k TEXT PRIMARY KEY, i BIGINT, r DOUBLE PRECISION, s TEXT, b BYTEA)")
        let rows: [[SQLValue]] = [
            [.text("a"), .int(0), .double(0.1), .text(""), .blob([])],
            [.text("B"), .int(-1), .double(1e300), .null, .null],
            [.text("é"), .int(Int.max), .double(.leastNonzeroMagnitude), .text(Self.hostileText), .blob(Self.blob)],
            [.text("Z"), .int(Int.min), .double(-2.5), .text("\\N"), .blob([0])],
            [.text(""), .null, .double(0.1 + 0.2), .text("𝄞"), .blob([92, 78])],
            [.text("a\u{301}"), .int(42), .null, .text("0.1"), .blob(Array("text".utf8))],
        ]
        try source.database.insert(into: "t", columns: "k, i, r, s, b", columnCount: 5, rows: rows)
        try target.insert(into: "t", columns: "k, i, r, s, b", columnCount: 5, rows: rows.reversed())
        let table = DatabaseCopy.Table(name: "t", columns: [
            .init(name: "k", kind: .text), .init(name: "i", kind: .integer), .init(name: "r", kind: .real),
            .init(name: "s", kind: .text), .init(name: "b", kind: .blob),
        ], key: ["k"])
        let reference = try DatabaseCopy.tally(table, in: source.database)
        #expect(reference.rows == rows.count)
        #expect(try DatabaseCopy.tally(table, in: target) == reference)

        let changes: [(String, String)] = [
            ("UPDATE t SET s = NULL WHERE k = 'a'", "UPDATE t SET s = '' WHERE k = 'a'"),
            ("UPDATE t SET r = 0.10000000000000002 WHERE k = 'a'", "UPDATE t SET r = 0.1 WHERE k = 'a'"),
            ("UPDATE t SET b = set_byte(b, 255, 254) WHERE k = 'é'", "UPDATE t SET b = set_byte(b, 255, 255) WHERE k = 'é'"),
            ("UPDATE t SET s = 'Perù' WHERE k = 'Z'", "UPDATE t SET s = '\\N' WHERE k = 'Z'"),
            ("UPDATE t SET i = 43 WHERE k = 'a\u{301}'", "UPDATE t SET i = 42 WHERE k = 'a\u{301}'"),
            ("INSERT INTO t(k) VALUES('extra')", "DELETE FROM t WHERE k = 'extra'"),
        ]
        for (change, undo) in changes {
            try target.run(change)
            #expect(try DatabaseCopy.tally(table, in: target) != reference, "\(change)")
            try target.run(undo)
            #expect(try DatabaseCopy.tally(table, in: target) == reference, "\(undo)")
        }
        // A value SQLite holds against its column's type is named, not hashed as something else.
        try source.database.run("UPDATE t SET i = 'forty-two' WHERE k = 'a\u{301}'")
        #expect {
            _ = try DatabaseCopy.tally(table, in: source.database)
        } throws: { error in
            "\(error)".contains("t.i of the row k = 'a\u{301}' holds 'forty-two' where integer values belong")
        }
    }

    /// A target with massiva's tables, or only one of them, is refused before anything is written;
    /// tables of its own are no obstacle.
    @Test func aTargetWithMassivasTablesIsRefused() throws {
        let source = try Source()
        try Self.fillEveryTable(source.database)

        let migrated = try Self.emptyTarget()
        try Schema.migrate(migrated)
        let before = try Self.relations(migrated)
        #expect {
            try DatabaseCopy(from: source.database, to: migrated).run()
        } throws: { error in
            guard case DatabaseCopyError.targetNotEmpty(_, let found) = error else { return false }
            return found.contains("schema_version") && found.contains("requests")
        }
        #expect(try Self.relations(migrated) == before)
        #expect(try Self.count(migrated, "SELECT count(*) FROM tenants") == 0)

        let oneTable = try Self.emptyTarget()
        try oneTable.execute("CREATE TABLE tenants(id TEXT)")
        #expect {
            try DatabaseCopy(from: source.database, to: oneTable).run()
        } throws: { error in
            guard case DatabaseCopyError.targetNotEmpty(_, let found) = error else { return false }
            return found == ["tenants"]
        }
        #expect(try oneTable.queryOne("SELECT to_regclass('schema_version') IS NULL", []) { $0.bool(0) } == true)

        let unrelated = try Self.emptyTarget()
        try unrelated.execute("CREATE TABLE someone_elses(x INTEGER); INSERT INTO someone_elses VALUES(1)")
        #expect(try DatabaseCopy(from: source.database, to: unrelated).run().count == 15)
        #expect(try Self.count(unrelated, "SELECT count(*) FROM someone_elses") == 1)
    }

    /// A row altered on the target after it was copied (here by the test's hook, before the
    /// verification) fails the copy naming the table, and nothing of it is left: the target is
    /// empty again and a second copy into it succeeds.
    @Test func aMismatchIsNamedAndRolledBack() throws {
        let source = try Source()
        try Self.fillEveryTable(source.database)
        let target = try Self.emptyTarget()
        for (table, alteration) in [("tenants", "UPDATE tenants SET name = name || ' ' WHERE id = 'acme'"),
                                    ("audit", "INSERT INTO audit(at, tenant, configurator, action, pod, sid, outcome, detail) "
                                        + "VALUES(9, 'acme', 'x', 'search', 'p', '', 'OK', '')"),
                                    ("requests", "UPDATE requests SET completed_at = 0.3 WHERE id = 1")] {
            let copy = try DatabaseCopy(from: source.database, to: target)
            copy.beforeVerifying = { try $0.run(alteration) }
            #expect {
                try copy.run()
            } throws: { error in
                guard case DatabaseCopyError.mismatch(let copied, let written) = error else { return false }
                return copied.table == table && written.table == table && "\(error)".hasPrefix("table \(table) differs once copied")
            }
            #expect(try Self.relations(target) == 0, "after a mismatch in \(table)")
        }
        #expect(try DatabaseCopy(from: source.database, to: target).run().count == 15)
    }

    /// A value PostgreSQL would not keep as it is (a NUL in a text, text that is not UTF-8) stops
    /// the copy naming its row; nothing is written.
    @Test func aValueThatWouldChangeStopsTheCopy() throws {
        for (value, reason) in [("'a' || char(0) || 'b'", "a NUL character"), ("CAST(X'61FF' AS TEXT)", "text that is not valid UTF-8")] {
            let source = try Source()
            try Self.fillEveryTable(source.database)
            try source.database.run("UPDATE tenants SET name = \(value) WHERE id = 'beta'")
            let target = try Self.emptyTarget()
            #expect {
                try DatabaseCopy(from: source.database, to: target).run()
            } throws: { error in
                guard case DatabaseCopyError.unfitValue("tenants", "name", "id = 'beta'", let found) = error else { return false }
                return found.hasPrefix(reason)
            }
            #expect(try Self.relations(target) == 0)
        }
    }

    /// Only SQLite into PostgreSQL.
    @Test func theEnginesAreChecked() throws {
        let source = try Source()
        let target = try Self.emptyTarget()
        #expect(throws: DatabaseCopyError.self) { try DatabaseCopy(from: target, to: source.database) }
        #expect(throws: DatabaseCopyError.self) { try DatabaseCopy(from: source.database, to: source.database) }
    }
}
