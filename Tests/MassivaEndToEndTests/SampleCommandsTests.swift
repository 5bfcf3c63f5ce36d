import Foundation
import Glibc
import Testing

/// The example commands of samples/commands/ keep the contract they document.
@Suite struct SampleCommandsTests {
    @Test func theSampleProbeAndReceiverWork() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        try """
            # test fixture
            IT001E00000002 unreachable
            """.write(toFile: spool.root + "/fixture.txt", atomically: false, encoding: .utf8)
        try spool.appendConfig("""
            probe_command = \(samplesDirectory)/commands/probe-fixture \(spool.root)/fixture.txt ${pod}
            association_command = \(samplesDirectory)/commands/association-log \(spool.root)/events.log
                ${key} ${event} ${pod} ${sid} ${nid} ${tenant} ${request}
            """)
        try spool.drop(try ProbeCommandTests.request(3), as: "tre.csv")
        let r = try spool.ok(["serve", "--once"])
        #expect(try spool.sql("SELECT pod, code FROM rows ORDER BY position")
                == [["IT001E00000001", "OK"], ["IT001E00000002", "METER_UNREACHABLE"], ["IT001E00000003", "OK"]])
        #expect(r.stderr.contains("meter of IT001E00000002 does not answer"))
        let events = try String(contentsOfFile: spool.root + "/events.log", encoding: .utf8).split(separator: "\n")
        #expect(events.count == 2)
        #expect(events.first?.contains(" associated IT001E00000001 16MOMSPC300000001 ") == true)

        // The receiver takes a key once: the same event again (as after a crash) adds nothing.
        let again = try spool.run(["/bin/sh", samplesDirectory + "/commands/association-log", spool.root + "/events.log",
                                   String(events[0].split(separator: " ")[0]), "associated", "IT001E00000001"], binary: "/bin/sh")
        #expect(again.status == 0)
        #expect(try String(contentsOfFile: spool.root + "/events.log", encoding: .utf8).split(separator: "\n").count == 2)

        // "down" is the head-end's outage: exit 75, no attempt spent.
        try "IT001E00000002 down\n".write(toFile: spool.root + "/fixture.txt", atomically: false, encoding: .utf8)
        try spool.serveUntil { try spool.run(["serve", "--once"]).stderr.contains("probe_tempfail") }
        #expect(try spool.sql("SELECT attempts FROM rows WHERE pod = 'IT001E00000002'") == [["1"]])
    }
}
