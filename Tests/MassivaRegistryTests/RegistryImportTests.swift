import Foundation
import Glibc
import Testing
import MassivaDatabase
import MassivaDomain
import MassivaRegistry
import MassivaStore
import MassivaTestSupport

/// `registry import`, streamed through the scratch database: real files, a real SQLite database,
/// or a database of the PostgreSQL test cluster with `MASSIVA_TEST_DATABASE=postgresql`.
@Suite struct RegistryImportTests {
    final class Folder {
        let root = NSTemporaryDirectory() + "massiva-import-\(UUID().uuidString)"
        var registry: String { root + "/registry" }
        let database: Database
        let embedded: EmbeddedRegistry

        init(engine: DatabaseLocation.Engine = TestDatabase.engine) throws {
            try FileManager.default.createDirectory(atPath: root + "/registry", withIntermediateDirectories: true)
            database = try Schema.open(engine == .sqlite ? .sqlite(path: root + "/massiva.db")
                                       : .postgresql(uri: try PostgresCluster.shared().createDatabase()))
            embedded = try EmbeddedRegistry(database: database)
        }

        deinit { try? FileManager.default.removeItem(atPath: root) }

        func write(pods: [String], devices: [String]) throws {
            try (RegistryImporter.podColumns.joined(separator: ",") + "\n" + pods.map { $0 + "\n" }.joined())
                .write(toFile: registry + "/pods.csv", atomically: false, encoding: .utf8)
            try (RegistryImporter.deviceColumns.joined(separator: ",") + "\n" + devices.map { $0 + "\n" }.joined())
                .write(toFile: registry + "/devices.csv", atomically: false, encoding: .utf8)
        }

        func load() throws -> RegistryImportCounts { try RegistryImporter.importDirectory(registry, into: embedded) }

        /// Every POD's line as stored, for comparing states.
        func podRows() throws -> [String] {
            try database.query("SELECT pod || '|' || eneltel || '|' || matricola || '|' || coalesce(exchange_pod, '') || '|' || reachability FROM pods ORDER BY pod", []) { $0.text(0) }
        }

        /// Counts every row written to `pods` and `devices` from now on (test-only triggers).
        func countWrites() throws {
            if database.engine == .postgresql {
                try database.execute("""
                    CREATE TABLE IF NOT EXISTS test_writes(n INTEGER); DELETE FROM test_writes; INSERT INTO test_writes VALUES(0);
                    CREATE OR REPLACE FUNCTION test_count_write() RETURNS trigger LANGUAGE plpgsql
                        AS $$ BEGIN UPDATE test_writes SET n = n + 1; RETURN NULL; END $$;
                    CREATE OR REPLACE TRIGGER test_pods_writes AFTER INSERT OR UPDATE OR DELETE ON pods
                        FOR EACH ROW EXECUTE FUNCTION test_count_write();
                    CREATE OR REPLACE TRIGGER test_devices_writes AFTER INSERT OR UPDATE OR DELETE ON devices
                        FOR EACH ROW EXECUTE FUNCTION test_count_write();
                    """)
                return
            }
            try database.execute("CREATE TABLE IF NOT EXISTS test_writes(n INTEGER); DELETE FROM test_writes; INSERT INTO test_writes VALUES(0);")
            for table in ["pods", "devices"] {
                for event in ["INSERT", "UPDATE", "DELETE"] {
                    try database.execute("CREATE TRIGGER IF NOT EXISTS test_\(table)_\(event) AFTER \(event) ON \(table) BEGIN UPDATE test_writes SET n = n + 1; END")
                }
            }
        }
        func writes() throws -> Int { try database.queryOne("SELECT n FROM test_writes", []) { $0.int(0) } ?? -1 }
    }

    static func pod(_ i: Int, reachability: String = "reachable") -> String {
        String(format: "IT001E%08d,%09d,ABCDEX%08d,M1,,true,true,%@,RSSMRA80A01H501U", i, i, i, reachability)
    }
    static func production(_ i: Int, of exchange: Int) -> String {
        String(format: "IT002E%08d,%09d,PRODX%09d,M2,IT001E%08d,true,true,reachable,RSSMRA80A01H501U", i, i, i, exchange)
    }
    static func device(_ i: Int) -> String { String(format: "16MOMSPC3%08d,%012X,MOME,acme", i, i) }

    @Test func aLargeFileIsImportedAcrossChunksAndBatches() throws {
        let f = try Folder()
        // 20,000 lines: several 1 MiB chunks' worth of records split mid-line, five staging batches.
        try f.write(pods: (0..<20_000).map { Self.pod($0) } + [Self.production(7, of: 3)], devices: (0..<9000).map(Self.device))
        let counts = try f.load()
        #expect(counts.pods == 20_001 && counts.devices == 9000 && counts.added == 29_001 && counts.changed == 0)
        let p = try #require(try f.embedded.pod("IT001E00000003"))
        #expect(p.productionPODs == ["IT002E00000007"] && p.eneltel == "000000003")
        #expect(try f.embedded.device("16MOMSPC300008999")?.nid == "000000002327")
    }

    @Test func everyBadLineIsReportedWithItsLineAndNothingIsImported() throws {
        let f = try Folder()
        try f.write(pods: [Self.pod(1)], devices: [Self.device(1)])
        try f.load()
        let before = try f.podRows()
        try f.write(pods: [Self.pod(2),
                           "IT001X0000000,12,,M3,,yes,true,reachable,X",     // line 3: every field wrong
                           Self.pod(2),                                       // line 4: twice
                           Self.production(5, of: 99),                        // line 5: no such M1
                           "IT001E00000006,000000006,M,M1,,true,true",        // line 6: 7 fields
                           "\"IT001E00000008\",000000008,\"A,B\",M1,,true,true,reachable,\"X\"", // line 7: quoted, fine
                           Self.pod(9, reachability: "sometimes")],           // line 8
                    devices: [Self.device(2), "16MOMSPC3,DC26,Toaster,", Self.device(2)])
        var reported: [String] = []
        #expect(throws: RegistryImportError.self) { try RegistryImporter.importDirectory(f.registry, into: f.embedded) { reported.append($0) } }
        for expected in ["pods.csv:3: pod:", "pods.csv:3: eneltel:", "pods.csv:3: matricola: empty", "pods.csv:3: meter_type:",
                         "pods.csv:3: telemanaged:", "pods.csv:4: pod: \"IT001E00000002\" already on line 2",
                         "pods.csv:5: exchange_pod: \"IT001E00000099\"", "pods.csv:6: expected 9 fields, got 7",
                         "pods.csv:8: reachability:", "devices.csv:3: sid:", "devices.csv:3: nid:", "devices.csv:3: device_type:",
                         "devices.csv:3: owner: empty", "devices.csv:4: sid: \"16MOMSPC300000002\" already on line 2"] {
            #expect(reported.contains { $0.hasPrefix(expected) }, "\(expected) not in \(reported)")
        }
        #expect(!reported.contains { $0.hasPrefix("pods.csv:7:") || $0.hasPrefix("pods.csv:2:") })
        // All or nothing: the first import stands as it was.
        #expect(try f.podRows() == before)
        #expect(try f.embedded.counts() == (1, 1))
    }

    @Test func aQuotedCellWithALineBreakKeepsTheLineNumbersOfTheFile() throws {
        let f = try Folder()
        try f.write(pods: [Self.pod(1), "IT001E00000002,000000002,\"AB\nCD\",M1,,true,true,reachable,X", "IT001E00000003,bad,M,M1,,true,true,reachable,X"],
                    devices: [])
        var reported: [String] = []
        #expect(throws: RegistryImportError.self) { try RegistryImporter.importDirectory(f.registry, into: f.embedded) { reported.append($0) } }
        // The line break is itself refused (a control character), and the next line is line 5.
        #expect(reported == ["pods.csv:3: matricola: control character in \"AB\\u{A}CD\"",
                             "pods.csv:5: eneltel: expected 9 digits, got \"bad\""])
    }

    @Test func aReImportOfTheSameFilesWritesNothingAndAFewChangesWriteThoseLines() throws {
        let f = try Folder()
        try f.write(pods: (0..<5000).map { Self.pod($0) }, devices: (0..<5000).map(Self.device))
        try f.load()
        try f.countWrites()
        let again = try f.load()
        #expect(again.added == 0 && again.changed == 0 && again.removed == 0 && again.pods == 5000)
        #expect(try f.writes() == 0, "an unchanged registry rewrote rows")

        // Two changed, one removed, one added.
        var pods = (0..<5000).map { Self.pod($0) }
        pods[10] = Self.pod(10, reachability: "unreachable")
        pods[20] = Self.pod(20, reachability: "flaky:2")
        pods.remove(at: 30)
        pods.append(Self.pod(7000))
        try f.write(pods: pods, devices: (0..<5000).map(Self.device))
        try f.countWrites()
        let changed = try f.load()
        #expect(changed.added == 1 && changed.changed == 2 && changed.removed == 1)
        #expect(try f.writes() == 4, "a few changed lines rewrote more than those lines")
        #expect(try f.podRows().contains("IT001E00000020|000000020|ABCDEX00000020||flaky:2"))
        #expect(try f.embedded.pod("IT001E00000030") == nil && f.embedded.pod("IT001E00007000") != nil)
    }

    @Test func associationsAndProbeCountsOutliveAReImport() throws {
        let f = try Folder()
        try f.write(pods: [Self.pod(1, reachability: "flaky:3")], devices: [Self.device(1)])
        try f.load()
        #expect(try !f.embedded.probeReachability(pod: "IT001E00000001"))
        try f.embedded.createAssociation(Association(pod: "IT001E00000001", sid: "16MOMSPC300000001", nid: "000000000001", deviceType: "MOME",
                                                     configurationType: .standard, productionPOD: nil, tenant: "acme",
                                                     configurator: "x", request: nil, createdAt: 1))
        try f.write(pods: [Self.pod(1, reachability: "flaky:3"), Self.pod(2)], devices: [Self.device(1)])
        try f.load()
        #expect(try f.embedded.association(pod: "IT001E00000001")?.sid == "16MOMSPC300000001")
        #expect(try !f.embedded.probeReachability(pod: "IT001E00000001"))
        #expect(try !f.embedded.probeReachability(pod: "IT001E00000001"))
        #expect(try f.embedded.probeReachability(pod: "IT001E00000001"))  // the fourth: the count went on
    }
}

extension RegistryImportTests {
    @Test func aNIDTwiceInAnyCaseAndAFIFOAreRefused() throws {
        let f = try Folder()
        try f.write(pods: [Self.pod(1)], devices: [Self.device(10), "16MOMSPC399999999,00000000000a,MOME,acme"])
        var reported: [String] = []
        #expect(throws: RegistryImportError.self) { try RegistryImporter.importDirectory(f.registry, into: f.embedded) { reported.append($0) } }
        #expect(reported == ["devices.csv:3: nid: \"00000000000A\" already on line 2"], "\(reported)")

        try FileManager.default.removeItem(atPath: f.registry + "/devices.csv")
        #expect(mkfifo(f.registry + "/devices.csv", 0o644) == 0)
        reported = []
        #expect(throws: RegistryImportError.self) { try RegistryImporter.importDirectory(f.registry, into: f.embedded) { reported.append($0) } }
        #expect(reported.count == 1 && reported[0].hasPrefix("devices.csv: cannot read: not a regular file"), "\(reported)")
    }
}

extension RegistryImportTests {
    /// `registry import` opens the files first (as the operator) and reads them later (as the
    /// spool's owner): what is read is what was opened, even when the folder is gone by then;
    /// a file missing at the opening is reported as every other problem, and nothing imported.
    @Test func theFilesAreReadThroughTheDescriptorsOpenedFirst() throws {
        let f = try Folder()
        try f.write(pods: [Self.pod(1), Self.pod(2)], devices: [Self.device(10)])
        let files = RegistryFiles(directory: f.registry)
        try FileManager.default.removeItem(atPath: f.registry)
        let counts = try RegistryImporter.importFiles(files, into: f.embedded)
        #expect(counts.pods == 2 && counts.devices == 1)
        #expect(try f.podRows().count == 2)

        try FileManager.default.createDirectory(atPath: f.registry, withIntermediateDirectories: true)
        try f.write(pods: [Self.pod(3)], devices: [Self.device(11)])
        try FileManager.default.removeItem(atPath: f.registry + "/pods.csv")
        var reported: [String] = []
        #expect(throws: RegistryImportError.self) {
            try RegistryImporter.importFiles(RegistryFiles(directory: f.registry), into: f.embedded) { reported.append($0) }
        }
        #expect(reported.count == 1 && reported[0].hasPrefix("pods.csv: cannot read: open(") && reported[0].contains("No such file"),
                "\(reported)")
        #expect(try f.podRows().count == 2)
    }
}

extension RegistryImportTests {
    /// Keys twice, thrice, in one staging batch and across batches (4,096 lines), a NID in
    /// another case, a SID whose first line was itself refused: the same reports, in the same
    /// order, from both engines (SQLite's scratch database, PostgreSQL's COPY staging).
    @Test func duplicatesAreReportedTheSameOnBothEngines() throws {
        var pods = (0..<9000).map { Self.pod($0) }
        pods[100] = Self.pod(7)     // line 102: twice in the first batch
        pods[5000] = Self.pod(7)    // line 5002: in the second batch
        pods[8999] = Self.pod(4500) // line 9001: in the third, its first line in the second
        pods[4095] = Self.pod(1)    // line 4097: the first batch's last line
        pods[4096] = Self.pod(1)    // line 4098: the second's first
        var devices = (0..<9000).map(Self.device)
        devices[1] = "16MOMSPC399999991,000000000000,MOME,acme"           // line 3: NID of line 2
        devices[200] = "16MOMSPC300000000,00000000FFFF,MOME,acme"         // line 202: SID of line 2
        devices[300] = "16MOMSPC300000000,000000000000,MOME,acme"         // line 302: both: the SID is reported
        devices[5000] = "16MOMSPC399999991,00000000eeee,MOME,acme"        // line 5002: SID of line 3, which was refused: kept
        devices[6000] = "16MOMSPC399999992,00000000EEEE,MOME,acme"        // line 6002: NID of line 5002
        devices[7000] = "16MOMSPC399999993,0000000012a0,MOME,acme"        // line 7002: NID of line 4770 (0x12A0 = 4768), other case
        let expected = [
            "pods.csv:102: pod: \"IT001E00000007\" already on line 9",
            "pods.csv:4097: pod: \"IT001E00000001\" already on line 3",
            "pods.csv:4098: pod: \"IT001E00000001\" already on line 3",
            "pods.csv:5002: pod: \"IT001E00000007\" already on line 9",
            "pods.csv:9001: pod: \"IT001E00004500\" already on line 4502",
            "devices.csv:3: nid: \"000000000000\" already on line 2",
            "devices.csv:202: sid: \"16MOMSPC300000000\" already on line 2",
            "devices.csv:302: sid: \"16MOMSPC300000000\" already on line 2",
            "devices.csv:6002: nid: \"00000000EEEE\" already on line 5002",
            "devices.csv:7002: nid: \"0000000012A0\" already on line 4770",
        ]
        for engine in [DatabaseLocation.Engine.sqlite, .postgresql] {
            let f = try Folder(engine: engine)
            try f.write(pods: pods, devices: devices)
            var reported: [String] = []
            #expect(throws: RegistryImportError.self) { try RegistryImporter.importDirectory(f.registry, into: f.embedded) { reported.append($0) } }
            #expect(reported == expected, "\(engine): \(reported)")
            #expect(try f.embedded.counts() == (0, 0))
        }
    }

    /// PostgreSQL reports a line by what refused it when it was staged: line 3's NID was line
    /// 2's, whatever comes after it. (SQLite's staging looks the SID up after the 64 lines of
    /// its INSERT and says "sid: already on line 4" here, a line after it.)
    @Test(.enabled(if: TestDatabase.engine == .postgresql))
    func aDeviceRefusedForItsNIDIsReportedForItEvenWhenItsSIDIsKeptLater() throws {
        let f = try Folder()
        try f.write(pods: [Self.pod(1)], devices: [Self.device(1), "16MOMSPC399999991,000000000001,MOME,acme",
                                                  "16MOMSPC399999991,000000000002,MOME,acme"])
        var reported: [String] = []
        #expect(throws: RegistryImportError.self) { try RegistryImporter.importDirectory(f.registry, into: f.embedded) { reported.append($0) } }
        #expect(reported == ["devices.csv:3: nid: \"000000000001\" already on line 2"], "\(reported)")
    }
}
