import Foundation
import Testing
import MassivaDomain
import MassivaProcessing
import MassivaRegistry
import MassivaSpool
import MassivaTestSupport

/// A failure that is neither the database's nor the registry's (a bug, data no check foresaw)
/// finishes that request with an error outcome the SI sees; the engine goes on with the rest.
@Suite struct PoisonRequestTests {
    struct Unforeseen: Error {}

    /// The embedded registry, except that looking up one POD fails unforeseeably.
    final class PoisonedRegistry: Registry {
        let inner: any Registry
        let poison: String
        init(_ inner: any Registry, poison: String) { self.inner = inner; self.poison = poison }
        func pod(_ code: String) throws -> PODRecord? {
            if code == poison { throw Unforeseen() }
            return try inner.pod(code)
        }
        func device(_ sid: String) throws -> DeviceRecord? { try inner.device(sid) }
        func device(nid: String) throws -> DeviceRecord? { try inner.device(nid: nid) }
        func probeReachability(pod: String) throws -> Bool { try inner.probeReachability(pod: pod) }
        func association(pod: String) throws -> Association? { try inner.association(pod: pod) }
        func association(sid: String) throws -> Association? { try inner.association(sid: sid) }
        func association(productionPOD pod: String) throws -> Association? { try inner.association(productionPOD: pod) }
        func createAssociation(_ association: Association) throws { try inner.createAssociation(association) }
        func deleteAssociation(pod: String) throws { try inner.deleteAssociation(pod: pod) }
        func eachAssociation(tenant: String?, _ body: (ListedAssociation) throws -> Void) throws {
            try inner.eachAssociation(tenant: tenant, body)
        }
    }

    @Test func anUnforeseenFailureRejectsItsRequestAndTheEngineGoesOn() throws {
        let f = try EngineFixture()
        let poison = TestRegistry.bankPOD(1)
        let clock = f.clock
        let engine = try Engine(configuration: f.configuration, store: f.store, registry: PoisonedRegistry(f.registry, poison: poison),
                            log: f.engine.log, clock: { clock.now })
        try f.drop("a.csv", text: EngineFixture.bulk(["\(poison);\(TestRegistry.bankSID(1));Standard"]))
        try f.drop("b.csv", text: EngineFixture.bulk(["\(TestRegistry.bankPOD(2));\(TestRegistry.bankSID(2));Standard"]))
        try engine.runUntilIdle()
        let requests = try f.store.requests(tenant: "acme").sorted { $0.id.description < $1.id.description }
        #expect(requests.map(\.status) == [.rejected, .done])
        let reason = requests.first?.reason ?? ""
        #expect(reason.contains("Errore Interno contattare l'assistenza"), "\(reason)")
        #expect(!reason.contains("/"), "no server detail in what the SI reads: \(reason)")
        #expect(f.logged.events("request_failed").count == 1)
    }
}
