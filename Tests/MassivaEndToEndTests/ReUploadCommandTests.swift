import Foundation
import Glibc
import Testing

/// Issue 22 through the built binary: a file sent twice is processed once (the repeat rejected,
/// naming the first), a `.cancel` of no request of the SI's is answered in results/, and the
/// packaged configuration key is read.
@Suite struct ReUploadCommandTests {
    @Test func aFileSentTwiceIsProcessedOnceAndACancelOfNothingIsAnswered() throws {
        let spool = try Spool(extraConfig: "duplicate_upload_window = 2h")
        try spool.setUpSamples()
        try spool.copySample("acme-clean.csv", to: "acme")
        try spool.ok(["serve", "--once"])
        let first = try #require(try spool.requestIDs(tenant: "acme", file: "acme-clean.csv").first)
        let associations = try spool.sqlInt("SELECT count(*) FROM associations")

        try spool.copySample("acme-clean.csv", to: "acme")
        try "".write(toFile: spool.incoming("acme") + "/MOME-000000777.cancel", atomically: false, encoding: .utf8)
        try spool.ok(["serve", "--once"])
        let ids = try spool.requestIDs(tenant: "acme", file: "acme-clean.csv")
        #expect(ids.count == 2)
        let again = try #require(ids.first { $0 != first })
        let stato = try spool.stato(tenant: "acme", id: again)
        #expect(stato["status"] as? String == "rejected")
        let reason = stato["reason"] as? String ?? ""
        #expect(reason.contains("già caricato") && reason.contains(first), "\(reason)")
        #expect(try spool.sqlInt("SELECT count(*) FROM associations") == associations)
        #expect(try spool.sqlInt("SELECT count(*) FROM rows WHERE request = \(Int(again.dropFirst(5)) ?? -1)") == 0)

        let cancel = try #require(try spool.requestIDs(tenant: "acme", file: "MOME-000000777.cancel").first)
        #expect((try spool.stato(tenant: "acme", id: cancel)["reason"] as? String ?? "").contains("non è stata trovata"))
        #expect(spool.list(spool.incoming("acme")).isEmpty)
    }
}
