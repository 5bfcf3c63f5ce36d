import Foundation
import Glibc
import Testing

/// The outbox of association events through the real binary: `association_command` is a small
/// script recording what it is given (a receiver keyed by `${key}` would dedupe repeats; this
/// one keeps them, so the test sees every delivery).
@Suite struct OutboxTests {
    static let recorder = """
        echo "$*" >> "$(dirname "$0")/received"
        """

    static func spool(command body: String, config: String = "") throws -> Spool {
        let spool = try Spool()
        try spool.setUpSamples()
        try spool.script("receiver", body)
        try spool.appendConfig("""
            association_command = \(spool.root)/receiver ${key} ${event} ${pod} ${sid} ${nid}
                ${tenant} ${request}
            association_minimal_backoff_time = 1s
            association_maximal_backoff_time = 2s
            \(config)
            """)
        return spool
    }

    func received(_ spool: Spool) -> [[String]] {
        let text = (try? String(contentsOfFile: spool.root + "/received", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: false).map(String.init) }
    }

    @Test func everyAssociationMadeOrRemovedIsDeliveredOnceInOrder() throws {
        let spool = try Self.spool(command: Self.recorder)
        try spool.drop(try ProbeCommandTests.request(3), as: "tre.csv")
        try spool.ok(["serve", "--once"])
        let id = try #require(try spool.requestIDs(tenant: "acme", file: "tre.csv").first)
        var lines = received(spool)
        #expect(lines.map { Array($0.dropFirst()) } == [
            ["associated", "IT001E00000001", "16MOMSPC300000001", "DC2609C04EBA", "acme", id],
            ["associated", "IT001E00000002", "16SMISF8100000001", "DC2622A835EB", "acme", id],
            ["associated", "IT001E00000003", "16MOMSPC300000002", "DC26D3336C66", "acme", id],
        ])
        #expect(Set(lines.map { $0[0] }).count == 3, "a key per event")
        #expect(try spool.sqlInt("SELECT count(*) FROM outbox") == 0)

        // Single services: the command delivers them at the next pass; again nothing twice.
        try spool.ok(["dissociate", "--tenant", "acme", "--pod", "IT001E00000002"])
        try spool.ok(["associate", "--tenant", "acme", "--pod", "IT001E00000002", "--sid", "16SMISF8100000001",
                      "--type", "Standard", "--out", spool.root])
        try spool.ok(["serve", "--once"])
        try spool.ok(["serve", "--once"])
        lines = received(spool)
        #expect(lines.count == 5)
        #expect(lines.dropFirst(3).map { Array($0.dropFirst().prefix(3)) } == [
            ["dissociated", "IT001E00000002", "16SMISF8100000001"],
            ["associated", "IT001E00000002", "16SMISF8100000001"],
        ])
        #expect(lines[4].count == 7 && lines[4][6] == "", "no request for a single association")
        #expect(Set(lines.map { $0[0] }).count == 5)
        #expect(try spool.run(["status"]).stdout.contains("association events waiting for delivery: 0"))
    }

    /// A failing command keeps the event at the head (and those behind it waiting), shown by
    /// `status`; once it succeeds, they go in order.
    @Test func aFailingCommandIsRetriedAndTheOrderKept() throws {
        let spool = try Self.spool(command: """
            echo "receiver offline" >&2
            exit 1
            """)
        try spool.drop(try ProbeCommandTests.request(2), as: "due.csv")
        let r = try spool.ok(["serve", "--once"])
        #expect(r.stderr.contains("association_deferred"), "\(r.stderr)")
        #expect(try spool.sql("SELECT attempts FROM outbox ORDER BY id") == [["1"], ["0"]])
        let status = try spool.run(["status"]).stdout
        #expect(status.contains("association events waiting for delivery: 2"), "\(status)")
        #expect(status.contains("oldest event: associated IT001E00000001 16MOMSPC300000001"))
        #expect(status.contains("1 failed deliveries"))
        #expect(status.contains("receiver offline"))

        try spool.script("receiver", Self.recorder)
        try spool.serveUntil { try spool.sqlInt("SELECT count(*) FROM outbox") == 0 }
        #expect(received(spool).map { $0[2] } == ["IT001E00000001", "IT001E00000002"])
    }

    /// SIGKILL after the association's commit and before its delivery: delivered after the
    /// restart, once.
    @Test func aKillBeforeDeliveryDeliversAfterTheRestart() throws {
        let spool = try Self.spool(command: """
            kill -KILL $PPID
            exit 1
            """)
        try spool.drop(try ProbeCommandTests.request(3), as: "uccidi.csv")
        let killed = try spool.run(["serve", "--once"])
        #expect(killed.killed)
        #expect(try spool.sqlInt("SELECT count(*) FROM associations") == 3)
        #expect(try spool.sqlInt("SELECT count(*) FROM outbox") == 3)

        try spool.script("receiver", Self.recorder)
        try spool.ok(["serve", "--once"])
        #expect(received(spool).map { $0[2] } == ["IT001E00000001", "IT001E00000002", "IT001E00000003"])
        #expect(try spool.sqlInt("SELECT count(*) FROM outbox") == 0)
    }

    /// SIGKILL after the command took the event and before massiva recorded it: delivered
    /// again after the restart (at least once), with the same key.
    @Test func aKillAfterTheCommandTookItDeliversAgainWithTheSameKey() throws {
        let spool = try Self.spool(command: """
            echo "$*" >> "$(dirname "$0")/received"
            if mkdir "$(dirname "$0")/killed-once" 2>/dev/null; then kill -KILL $PPID; sleep 5; fi
            exit 0
            """)
        try spool.drop(try ProbeCommandTests.request(2), as: "due.csv")
        #expect(try spool.run(["serve", "--once"]).killed)
        try spool.ok(["serve", "--once"])
        let lines = received(spool)
        #expect(lines.map { $0[2] } == ["IT001E00000001", "IT001E00000001", "IT001E00000002"])
        #expect(lines[0][0] == lines[1][0], "the same key both times")
        #expect(try spool.sqlInt("SELECT count(*) FROM outbox") == 0)
    }

    @Test func withoutACommandNoEventIsKept() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        try spool.drop(try ProbeCommandTests.request(2), as: "due.csv")
        try spool.ok(["serve", "--once"])
        #expect(try spool.sqlInt("SELECT count(*) FROM associations") == 2)
        #expect(try spool.sqlInt("SELECT count(*) FROM outbox") == 0)
    }
}
