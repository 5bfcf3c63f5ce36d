import Foundation
import Glibc
import MassivaDatabase
import MassivaStore
import Testing
import MassivaTestSupport

/// A newer release migrating the database under a running daemon: the real `massiva serve`
/// process must stop with `SchemaError.exitStatus` and a `schema_newer_than_binary` line, and
/// run no pass against the schema it does not know.
@Suite(.serialized) struct SchemaGuardTests {
    /// The next release's migration, run from another process's connection (as a newer
    /// `massiva` command would when it opens the spool).
    static func migrateToTheNextRelease(_ h: DaemonHarness) throws {
        let database = try Database(location: h.database.location)
        let next = Migration(version: Schema.currentVersion + 1, summary: "a later release's table",
                             sql: "CREATE TABLE later_release(x INTEGER)", postgresql: "CREATE TABLE later_release(x INTEGER)")
        let ran = try Schema.migrate(database, migrations: Schema.migrations + [next])
        #expect(ran.map(\.version) == [Schema.currentVersion + 1])
    }

    /// Waits for the daemon to exit (polling its state, not sleeping a fixed time).
    static func exited(_ daemon: SpawnedProcess, _ h: DaemonHarness) -> Bool {
        h.waitUntil(20) { !daemon.isRunning }
    }

    @Test func aMigrationUnderTheRunningDaemonStopsItBeforeItsNextPass() throws {
        let h = try DaemonHarness()
        let daemon = try h.startDaemon()
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        // Running, and passing: a first file gets its results.
        try h.drop(SampleRows.clean(count: 1), as: "first.csv")
        #expect(h.waitUntil { (h.stato("acme", "MOME-000000001")?["status"] as? String) == "done" }, "\(h.log.suffix(1500))")

        try Self.migrateToTheNextRelease(h)
        // The next file asks for a pass (inotify): the daemon reads the version first and stops.
        try h.drop(SampleRows.clean(count: 1, firstPOD: 2, firstSID: 2), as: "second.csv")
        #expect(Self.exited(daemon, h), "still running after the migration: \(h.log.suffix(1500))")
        guard !daemon.isRunning else { return }
        #expect(daemon.terminationStatus == SchemaError.exitStatus)
        #expect(daemon.terminationReason == .exit)
        let line = h.log.split(separator: "\n").first { $0.contains("schema_newer_than_binary") }
        #expect(line != nil, "no schema_newer_than_binary line: \(h.log.suffix(1500))")
        #expect(line?.contains("found=\(Schema.currentVersion + 1)") == true, "\(line ?? "")")
        #expect(line?.contains("supported=\(Schema.currentVersion)") == true, "\(line ?? "")")
        // No pass ran against the newer schema: the second file was never taken.
        #expect(FileManager.default.fileExists(atPath: h.incoming("acme") + "/second.csv"))
        #expect(h.stato("acme", "MOME-000000002") == nil)
        #expect(h.sql("SELECT count(*) FROM requests") == "1")
        // And a new start refuses the database with the same status, saying why.
        let again = try h.run(["serve", "--once"])
        #expect(again.status == SchemaError.exitStatus)
    }

    @Test func sighupReadsTheVersionAgainAndStops() throws {
        let h = try DaemonHarness()
        let listener = try NotifyListener(directory: h.root)
        let daemon = try h.startDaemon(environment: ["NOTIFY_SOCKET": listener.path])
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        #expect(!listener.receive(for: 10) { $0.contains { $0.contains("READY=1") } }.isEmpty)
        // Only the version, as a careless hand with sqlite3 or psql would (or a release whose
        // migration changed nothing but the number); rescan_interval is an hour and nothing is
        // dropped, so the only thing that reads it again is the SIGHUP.
        try h.database.setSchemaVersion(Schema.currentVersion + 1)
        #expect(try h.database.schemaVersion() == Schema.currentVersion + 1)
        kill(daemon.processIdentifier, SIGHUP)
        #expect(Self.exited(daemon, h), "still running after SIGHUP: \(h.log.suffix(1500))")
        guard !daemon.isRunning else { return }
        #expect(daemon.terminationStatus == SchemaError.exitStatus)
        #expect(h.log.contains("schema_newer_than_binary"))
        #expect(!h.log.contains("reloaded"), "it reloaded on the newer schema: \(h.log.suffix(1500))")
        let stopping = listener.receive(for: 5) { $0.contains { $0.contains("STOPPING=1") } }
        #expect(stopping.contains { $0.contains("STOPPING=1") })
    }
}
