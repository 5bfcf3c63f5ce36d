import Foundation
import Glibc
import Testing

/// Issue 19 through the real binary: interactive work never waits for bulk probes, and a
/// tenant at `tenant_queue_limit` keeps its uploads and is told why.
@Suite struct FairnessCommandTests {
    /// `associate` and `search` run their one probe in their own process, there and then: they
    /// share no slot with the daemon's bulk probes. Here every slot of a running `serve --once`
    /// (probe_concurrency 2) is held by a bulk probe blocked on a FIFO, and `associate` and
    /// `search` are answered all the same; then the bulk probes are let go.
    @Test func associateAndSearchDoNotWaitForHeldBulkProbes() throws {
        let spool = try ProbeCommandTests.spool(probe: """
            dir=$(dirname "$0")
            if [ -n "$5" ]; then            # a bulk row (a single association has no request)
                echo "$1" > "$dir/started"
                cat "$dir/gate" > /dev/null
            fi
            exit 0
            """, config: "probe_concurrency = 2")
        #expect(mkfifo(spool.root + "/started", 0o600) == 0 && mkfifo(spool.root + "/gate", 0o600) == 0)
        let started = open(spool.root + "/started", O_RDWR)  // never EOF; probes never wait to write
        defer { close(started) }
        try spool.drop(try ProbeCommandTests.request(3), as: "massivo.csv")
        let serve = try spool.start(["serve", "--once"])
        var held = 0
        var byte: UInt8 = 0
        while held < 2 && read(started, &byte, 1) == 1 { if byte == 0x0A { held += 1 } }
        #expect(held == 2, "both slots held by bulk probes")

        let search = try spool.run(["search", "IT001E00000005", "--tenant", "acme"])
        #expect(search.status == 0, "\(search.stderr)")
        let associate = try spool.run(["associate", "--tenant", "acme", "--pod", "IT001E00000005", "--sid", "16MOMSPC300000005",
                                       "--type", "Standard", "--out", spool.root])
        #expect(associate.status == 0, "\(associate.stderr)")
        #expect(try spool.sqlInt("SELECT count(*) FROM associations WHERE pod = 'IT001E00000005'") == 1)
        #expect(try spool.sqlInt("SELECT count(*) FROM requests WHERE status = 'done'") == 0, "the bulk request still waits")

        // Let go: the blocked readers get end of file, later probes read a plain file.
        let writer = open(spool.root + "/gate", O_WRONLY)
        #expect(writer >= 0)
        #expect(FileManager.default.createFile(atPath: spool.root + "/gate.plain", contents: Data()))
        #expect(rename(spool.root + "/gate.plain", spool.root + "/gate") == 0)
        close(writer)
        let r = spool.finish(serve)
        #expect(r.status == 0, "\(r.stderr)")
        let id = try #require(try spool.requestIDs(tenant: "acme", file: "massivo.csv").first)
        #expect(try spool.esito(tenant: "acme", id: id).map { $0["CODICE"] } == ["OK", "OK", "OK"])
    }

    /// Beyond `tenant_queue_limit` an upload stays in `incoming/`, unclaimed; results/
    /// CODA-PIENA.txt says why, `status` shows the tenant at its limit, and once there is room
    /// the file is taken as any other.
    @Test func aTenantAtItsQueueLimitKeepsItsUploadsAndIsToldWhy() throws {
        // The back end is down (exit 75): the recorded request stays queued.
        let spool = try ProbeCommandTests.spool(probe: "exit 75", config: "tenant_queue_limit = 1")
        try spool.drop(try ProbeCommandTests.request(1), as: "primo.csv")
        try spool.drop(try ProbeCommandTests.request(2), as: "secondo.csv")
        try spool.ok(["serve", "--once"])
        #expect(try spool.sql("SELECT file_name, status FROM requests") == [["primo.csv", "queued"]])
        #expect(spool.list(spool.incoming("acme")) == ["secondo.csv"])
        let notice = try String(contentsOfFile: spool.results("acme") + "/CODA-PIENA.txt", encoding: .utf8)
        #expect(notice.contains("il massimo consentito è 1"), "\(notice)")
        #expect(notice.contains("Un file caricato resta nella cartella incoming/"), "\(notice)")
        let status = try spool.run(["status"])
        #expect(status.stdout.contains("  acme: 1 (at tenant_queue_limit 1: new uploads wait in incoming/)"), "\(status.stdout)")

        try spool.script("probe", "exit 0")
        try spool.ok(["serve", "--once"])
        #expect(try spool.sql("SELECT file_name, status FROM requests ORDER BY id") == [["primo.csv", "done"], ["secondo.csv", "done"]])
        #expect(spool.list(spool.incoming("acme")).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: spool.results("acme") + "/CODA-PIENA.txt"))
    }
}
