import Foundation
import Testing
import MassivaDatabase
import MassivaDomain
import MassivaRegistry
import MassivaStore
import MassivaTestSupport

/// `EmbeddedRegistry.withLookups`: a pass's PODs and SIDs read at once (on PostgreSQL; SQLite
/// looks them up one by one, in-process) give the same answers as the lookups one by one, and
/// stay right while the pass makes and removes associations: on either engine
/// (`MASSIVA_TEST_DATABASE`), the same answers.
@Suite struct RegistryLookupsTests {
    final class Registry {
        let root = NSTemporaryDirectory() + "massiva-lookups-\(UUID().uuidString)"
        let database: Database
        let embedded: EmbeddedRegistry

        init() throws {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            database = try Schema.open(try TestDatabase.location(embeddedPath: root + "/massiva.db"))
            embedded = try EmbeddedRegistry(database: database)
            try RegistryImporter.importDirectory(BuiltProgram.packageRoot + "/samples/registry", into: embedded)
        }

        deinit { try? FileManager.default.removeItem(atPath: root) }

        /// A column of a sample registry file, from its second line on.
        static func column(_ file: String, _ index: Int) throws -> [String] {
            try String(contentsOfFile: BuiltProgram.packageRoot + "/samples/registry/" + file, encoding: .utf8)
                .split(separator: "\n").dropFirst().map { String($0.split(separator: ",", omittingEmptySubsequences: false)[index]) }
        }
    }

    static func association(pod: String, sid: String, production: String? = nil) -> Association {
        Association(pod: pod, sid: sid, nid: "DC2609C04EBA", deviceType: "MOME", configurationType: production == nil ? .standard : .prosumer,
                    productionPOD: production, tenant: "acme", configurator: "mrossi", request: "MOME-000000001", createdAt: 1000)
    }

    /// Every sample POD and SID (after 4,200 other keys: two lists), exchange PODs with
    /// production PODs, production PODs, associated and not, and keys that are in no table:
    /// the answers read at once are the answers read one by one.
    @Test func answersReadAtOnceAreTheAnswersReadOneByOne() throws {
        let r = try Registry()
        // And keys in no table that an array literal must quote (PostgreSQL's lookups take each
        // list as one text array).
        let hostile = ["a\"b", "c\\d", "{e,f}", "g h", "NULL", "\\\""]
        let pods = try Registry.column("pods.csv", 0) + ["IT001E99999999", ""] + hostile
        let sids = try Registry.column("devices.csv", 0) + ["16MOMSPC399999999"] + hostile
        #expect(pods.count > 300 && sids.count > 140)
        try r.database.transaction {
            try r.embedded.createAssociation(Self.association(pod: "IT001E00001001", sid: sids[0], production: "IT001E00060011"))
            try r.embedded.createAssociation(Self.association(pod: pods[1], sid: sids[1]))
        }
        let one = try r.database.transaction { () throws -> [String] in
            try pods.map { "\(String(describing: try r.embedded.pod($0))) \(String(describing: try r.embedded.association(pod: $0)))" }
                + sids.map { "\(String(describing: try r.embedded.device($0))) \(String(describing: try r.embedded.association(sid: $0)))" }
        }
        #expect(try r.embedded.pod("IT001E00001001")?.productionPODs.isEmpty == false)
        // Keys in no table first (they sort first): the sample's keys are in a second list.
        let filler = (0..<4200).map { "A" + String(100_000 + $0) }
        let atOnce = try r.database.transaction {
            try r.embedded.withLookups(pods: filler + pods + pods.prefix(3), sids: filler + sids.reversed()) { () throws -> [String] in
                try pods.map { "\(String(describing: try r.embedded.pod($0))) \(String(describing: try r.embedded.association(pod: $0)))" }
                    + sids.map { "\(String(describing: try r.embedded.device($0))) \(String(describing: try r.embedded.association(sid: $0)))" }
            }
        }
        let differences = zip(one, atOnce).filter { $0.0 != $0.1 }
        #expect(atOnce.count == one.count && differences.isEmpty, "\(differences.count) differ, as \(differences.prefix(2))")
    }

    /// Read at once means answered from what was read: a device removed behind the registry's
    /// back meanwhile is still answered (without this, the pass's statements per row are back).
    /// An association made or removed through the registry is answered as it now stands.
    @Test func theAnswersAreThoseReadAndTheRegistrysOwnChanges() throws {
        let r = try Registry()
        let sids = try Registry.column("devices.csv", 0)
        let pods = try Registry.column("pods.csv", 0)
        try r.database.transaction {
            try r.embedded.withLookups(pods: [pods[0], pods[2]], sids: [sids[0], sids[2]]) {
                try r.database.run("DELETE FROM devices WHERE sid = ?", [.text(sids[0])])
                // Read at once on PostgreSQL: still answered. SQLite reads it now: gone.
                #expect(try r.embedded.device(sids[0])?.sid == (r.database.engine == .postgresql ? sids[0] : nil))
                #expect(try r.embedded.association(pod: pods[0]) == nil)

                let made = Self.association(pod: pods[0], sid: sids[0])
                try r.embedded.createAssociation(made)
                #expect(try r.embedded.association(pod: pods[0]) == made)
                #expect(try r.embedded.association(sid: sids[0]) == made)

                try r.embedded.createAssociation(Self.association(pod: pods[2], sid: sids[2]))
                try r.embedded.deleteAssociation(pod: pods[2])
                #expect(try r.embedded.association(pod: pods[2]) == nil)
                #expect(try r.embedded.association(sid: sids[2]) == nil)
                #expect(try r.embedded.association(pod: pods[0]) == made)
                // After a removal every lookup reads the database again: the device is gone.
                #expect(try r.embedded.device(sids[0]) == nil)
            }
        }
        // Outside, the database as it is.
        #expect(try r.embedded.device(sids[0]) == nil)
    }
}

extension RegistryLookupsTests {
    /// Associations made in a pass's lookups are written by the pass's end, and before any
    /// statement that reads the associations otherwise (a production POD's lookup, a count, a
    /// list); one whose POD is taken fails as it did.
    @Test func associationsMadeInThePassAreWrittenByItsEnd() throws {
        let r = try Registry()
        let pods = try Registry.column("pods.csv", 0)
        let sids = try Registry.column("devices.csv", 0)
        func stored() throws -> Int { try r.database.queryOne("SELECT count(*) FROM associations", []) { $0.int(0) } ?? -1 }
        try r.database.transaction {
            try r.embedded.withLookups(pods: Array(pods.prefix(40)) + ["IT001E00001001"], sids: Array(sids.prefix(40))) {
                for i in 0..<35 { try r.embedded.createAssociation(Self.association(pod: pods[i], sid: sids[i])) }
                #expect(try r.embedded.associationCount(tenant: "acme") == 35)
                try r.embedded.createAssociation(Self.association(pod: "IT001E00001001", sid: sids[35], production: "IT001E00060011"))
                #expect(try r.embedded.association(productionPOD: "IT001E00060011")?.pod == "IT001E00001001")
                #expect(try r.embedded.associations(tenant: "acme").count == 36)
                // (In a savepoint of its own: PostgreSQL fails the rest of a transaction after an error.)
                #expect(throws: DatabaseError.self) {
                    try r.database.transaction { try r.embedded.createAssociation(Self.association(pod: pods[0], sid: sids[39])) }
                }
                try r.embedded.createAssociation(Self.association(pod: pods[36], sid: sids[36]))
            }
            #expect(try stored() == 37)
        }
        #expect(try stored() == 37)
        // A savepoint in the pass, rolled back: what was made before it stays, what was made in
        // it goes, and the lookups say so.
        try r.database.transaction {
            try r.embedded.withLookups(pods: [pods[37], pods[38]], sids: [sids[37], sids[38]]) {
                try r.embedded.createAssociation(Self.association(pod: pods[37], sid: sids[37]))
                struct Undone: Error {}
                _ = try? r.database.transaction {
                    try r.embedded.createAssociation(Self.association(pod: pods[38], sid: sids[38]))
                    throw Undone()
                }
                #expect(try r.embedded.association(pod: pods[37])?.sid == sids[37])
                #expect(try r.embedded.association(pod: pods[38]) == nil)
                #expect(try r.embedded.association(sid: sids[38]) == nil)
            }
        }
        #expect(try stored() == 38)
        // A pass that fails writes nothing of its own.
        struct Failed: Error {}
        #expect(throws: Failed.self) {
            try r.database.transaction {
                try r.embedded.withLookups(pods: [pods[39]], sids: [sids[39]]) {
                    try r.embedded.createAssociation(Self.association(pod: pods[39], sid: sids[39]))
                    throw Failed()
                }
            }
        }
        #expect(try stored() == 38)
        #expect(try r.embedded.association(pod: pods[39]) == nil)
    }
}
