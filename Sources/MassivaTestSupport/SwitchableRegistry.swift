import MassivaDomain
import MassivaRegistry
import MassivaStore

/// A registry that fails with `RegistryError.unavailable` while `down` is set (an outage the test
/// switches on and off), and counts the probes it answers; the embedded registry answers otherwise.
public final class SwitchableRegistry: Registry, @unchecked Sendable {
    public let base: EmbeddedRegistry
    public var down = false
    public var probes = 0
    public init(_ base: EmbeddedRegistry) { self.base = base }
    func check() throws { if down { throw RegistryError.unavailable("test outage") } }
    public func pod(_ code: String) throws -> PODRecord? { try check(); return try base.pod(code) }
    public func device(_ sid: String) throws -> DeviceRecord? { try check(); return try base.device(sid) }
    public func device(nid: String) throws -> DeviceRecord? { try check(); return try base.device(nid: nid) }
    public func probeReachability(pod: String) throws -> Bool { try check(); probes += 1; return try base.probeReachability(pod: pod) }
    public func association(pod: String) throws -> Association? { try check(); return try base.association(pod: pod) }
    public func association(sid: String) throws -> Association? { try check(); return try base.association(sid: sid) }
    public func association(productionPOD pod: String) throws -> Association? { try check(); return try base.association(productionPOD: pod) }
    public func createAssociation(_ a: Association) throws { try check(); try base.createAssociation(a) }
    public func deleteAssociation(pod: String) throws { try check(); try base.deleteAssociation(pod: pod) }
    public func eachAssociation(tenant: String, after: (createdAt: Double, pod: String), _ body: (ListedAssociation) throws -> Void) throws {
        try check()
        try base.eachAssociation(tenant: tenant, after: after, body)
    }
    public func associationCount(tenant: String) throws -> Int { try check(); return try base.associationCount(tenant: tenant) }
    public func eachAssociation(tenant: String?, _ body: (ListedAssociation) throws -> Void) throws {
        try check()
        try base.eachAssociation(tenant: tenant, body)
    }
}
