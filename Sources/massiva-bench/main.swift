// Micro-benchmarks of the pieces done once per associated row and per request: the SCP/1
// script, the scp.zip archive, counting an upload's data rows at intake, and decoding the
// store's records. Run by `scripts/bench --micro` (release build); they
// were tests once, measuring without asserting anything.
import MassivaDomain
import MassivaResults
import MassivaSpool
import MassivaStore
import MassivaSystem

let prosumer = ScpScript(
    requestID: "MOME-000000031", generatedAt: "2024-03-05T10:15:30+01:00", deviceType: "MOME",
    sid: "16MOMSPC300001811", nid: "DC2620001A2C", configurationType: .prosumer, exchangePOD: "IT001E00000001",
    productionPOD: "IT001E00000101", matricola: "00331N12345678", eneltel: "987654321", gesis: true)

let clock = ContinuousClock()

// SCP/1: rendering, CRC-32 included.
var total = 0
let renders = 60_000
let renderTime = try clock.measure {
    for i in 0..<renders {
        var s = prosumer
        s.eneltel = String(i)
        total &+= try s.render().count
    }
}
print("SCP/1: \(renders) renders in \(renderTime) (\(total) bytes)")

// scp.zip: a request of 100 associated rows, stored or deflated, with or without fsync.
let entries = try (0..<100).map { i in
    var s = prosumer
    s.sid = "16MOMSPC3000\(10000 + i)"
    s.exchangePOD = "IT001E\(10_000_000 + i)"
    return (name: s.fileName, bytes: try s.render())
}
let averageEntry = entries.map(\.bytes.count).reduce(0, +) / entries.count
let directory = (CurrentProcess.environment["TMPDIR"] ?? "/tmp") + "/massiva-bench-zip-\(CurrentProcess.id)"
try FileSystem.makeDirectory(directory, intermediate: true)
defer {
    try? FileSystem.unlink(directory + "/t.zip")
    try? FileSystem.removeDirectory(directory)
}
let rounds = 50
for compression in [ZipArchive.Compression.store, .deflate] {
    for sync in [false, true] {
        let elapsed = try clock.measure {
            for _ in 0..<rounds {
                try ZipArchive.write(entries: entries, to: directory + "/t.zip", modificationTime: 1_709_630_130,
                                     compression: compression, sync: sync)
            }
        }
        let size = try FileStatus.of(directory + "/t.zip").size
        print("ZipArchive: 100 entries × \(averageEntry) B, \(compression), sync \(sync): \(elapsed / rounds) per archive, \(size) bytes")
    }
}

// Intake: an upload of 100 rows read into data rows, only to count them (a queued request
// shows 0/N); the pass parses the same bytes again later.
let upload = Array(("POD;Identificativo MOME/Smart INFO;Tipo Configurazione\r\n" + (0..<100).map { i in
    "IT001E\(10_000_000 + i);16MOMSPC3\(10_000_000 + i);\(i % 10 == 0 ? "Prosumer" : "Standard")\r\n"
}.joined()).utf8)
let counts = 5_000
var counted = 0
let countTime = clock.measure {
    for _ in 0..<counts { counted &+= BulkFile.dataRowCount(upload, maxRows: 100) }
}
print("BulkFile.dataRowCount: 100-row upload, \(countTime / counts) per file (\(counted / counts) rows)")

// Timestamps: local ISO 8601 text (localtime_r and hand formatting), thousands per result file
// (richieste.csv, esito.csv). Was a timed test (20,000 under 2 s); speed is measured here.
let stamps = 200_000
var stampBytes = 0
let stampTime = clock.measure {
    for i in 0..<stamps { stampBytes &+= SystemClock.iso8601(1_795_921_925 + Double(i)).utf8.count }
}
print("SystemClock.iso8601: \(stamps) timestamps in \(stampTime) (\(stampBytes) bytes)")

// The store's decoders: a request's rows (every pass over a request and every esito.csv reads
// them) and a tenant's requests, read back from a real database file (the page cache warm).
let storePath = directory + "/state.db"
defer { for suffix in ["", "-wal", "-shm"] { try? FileSystem.unlink(storePath + suffix) } }
let store = try StateStore(database: try Schema.open(path: storePath))
try store.addTenant(id: "bench", name: "Bench", now: 0)
let storedRequests = 1_000
var lastRequest = RequestID(0)
try store.transaction {
    for r in 0..<storedRequests {
        lastRequest = try store.createRequest(tenant: "bench", fileName: "req-\(r).csv", configurator: "bench",
                                              claimName: nil, content: nil, rejection: nil, rowsTotal: 100, now: Double(r))
    }
    try store.saveRows((0..<10_000).map { i in
        var row = RowRecord(position: i, line: i + 2, pod: "IT001E\(10_000_000 + i)", sid: "16MOMSPC3\(10_000_000 + i)",
                            configuration: i % 10 == 0 ? "Prosumer" : "Standard", state: .ok, code: .ok)
        row.nid = "DC2620001A2C"; row.deviceType = "MOME"; row.matricola = "00331N12345678"; row.eneltel = "987654321"
        row.processedAt = Double(i)
        return row
    }, of: lastRequest)
}
// The fastest of 30 reads of each: the machine is shared, and the minimum is the figure least
// disturbed by other work.
func fastest(of reads: Int, _ body: () throws -> Int) rethrows -> (Duration, Int) {
    var best = Duration.seconds(3600), count = 0
    for _ in 0..<reads {
        let start = clock.now
        count = try body()
        best = min(best, clock.now - start)
    }
    return (best, count)
}
let (rowTime, decodedRows) = try fastest(of: 30) { try store.rows(of: lastRequest).count }
print("StateStore.rows(of:): \(decodedRows) rows, \(rowTime) per read (fastest of 30)")
let (requestTime, decodedRequests) = try fastest(of: 30) { try store.requests(tenant: "bench").count }
print("StateStore.requests(tenant:): \(decodedRequests) requests, \(requestTime) per read (fastest of 30)")
