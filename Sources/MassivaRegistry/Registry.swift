import MassivaDomain

/// A failure of the registry itself (not of one meter).
public enum RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The back end is down or unreachable: work pauses and is tried again later, without
    /// spending any row's attempts. *Servizio non disponibile*.
    case unavailable(String)
    /// The back end answered but failed, or answered something that does not decode (a stored
    /// value this release does not know). *Errore Interno*.
    case internalError(String)

    public var description: String {
        switch self {
        case .unavailable(let m): return "registry unavailable: \(m)"
        case .internalError(let m): return "registry internal error: \(m)"
        }
    }
}

/// An association as the association lists show it: with its meter's serial number, so a list
/// says which meters are GESIS without one more look-up per line.
public struct ListedAssociation: Sendable, Equatable {
    public var association: Association
    /// The exchange POD's meter serial number; empty when the POD is no longer in the registry.
    public var matricola: String

    public init(association: Association, matricola: String) {
        self.association = association
        self.matricola = matricola
    }

    public var isGesis: Bool { isGesisMatricola(matricola) }
}

/// The grid registry: PODs with their meters, devices, reachability, associations.
///
/// Bulk rows, single associations, searches, `report` and every tenant's `associazioni.csv` go
/// through this one protocol and nothing else, so a second implementation (the DSO's back end)
/// is complete once it implements these methods.
///
/// **Transactions.** The embedded implementation (MassivaStore's `EmbeddedRegistry`) keeps
/// everything in the engine's SQLite database and works inside the caller's transaction: a row's
/// outcome, its association and its audit entry commit or roll back together. A remote
/// implementation cannot join that transaction; it must then make `createAssociation` and
/// `deleteAssociation` idempotent, because a crash after its call and before the engine's commit
/// makes the engine do the row again.
///
/// **Idempotency.** The engine relies on it already: a row found associated by the same request,
/// POD and SID (`Association.request`) is this row's own earlier success and counts as done
/// (`RegistryChecks`), so a pass redone after a crash never associates twice.
///
/// **Errors.** `RegistryError.unavailable` means an outage of the registry itself: the engine
/// rolls the request's pass back, spends no attempt and pauses with its own backoff; services
/// answer *Servizio non disponibile* (exit 5). `RegistryError.internalError` is *Errore Interno*
/// (exit 6) for services; a bulk pass treats it as the outage (the back end's trouble, not the
/// row's: no attempt spent, a pause). A meter that does not answer is not an error:
/// `probeReachability` returns false and the row waits for a retry. A database error of the
/// embedded registry fails the engine's pass, which is tried again.
public protocol Registry: AnyObject {
    /// The POD with its meter and, for an exchange POD, its production PODs (sorted).
    func pod(_ code: String) throws -> PODRecord?
    func device(_ sid: String) throws -> DeviceRecord?
    /// The device with this NID (12 hexadecimal characters, any case), for single associations
    /// by NID (the portal's form takes "ID dispositivo e/o NID"). Never for bulk rows.
    func device(nid: String) throws -> DeviceRecord?
    /// Asks the telemanagement system whether the POD's meter answers now. Not idempotent: the
    /// embedded registry's `flaky:N` meters count probes. Not called when `probe_command` is
    /// set: the DSO's program answers instead (`CommandProbe`, `ProbeAnswer`), asked in
    /// parallel before a pass, outside its transaction.
    func probeReachability(pod: String) throws -> Bool
    func association(pod: String) throws -> Association?
    func association(sid: String) throws -> Association?
    /// The association whose production POD is `pod`, if any.
    func association(productionPOD pod: String) throws -> Association?
    /// Records a new association; fails if the POD or the SID is already associated.
    func createAssociation(_ association: Association) throws
    /// Removes the association of the exchange POD `pod`; none is not an error.
    func deleteAssociation(pod: String) throws
    /// Every active association, of one tenant or of all, oldest first (then by POD), handed to
    /// `body` one at a time from one consistent view: a tenant's list of any length costs
    /// bounded memory. `body` may call the registry's other methods.
    func eachAssociation(tenant: String?, _ body: (ListedAssociation) throws -> Void) throws
    /// The tenant's associations that come after `(createdAt, pod)` in that order, in order:
    /// what associazioni.csv lacks when only new associations were made since it was written.
    /// The same view as `associationCount`, when both are called in one transaction.
    func eachAssociation(tenant: String, after: (createdAt: Double, pod: String), _ body: (ListedAssociation) throws -> Void) throws
    /// How many associations the tenant has.
    func associationCount(tenant: String) throws -> Int
    /// Runs `body`, in which the rows of one pass look up these PODs and SIDs (`pod`, `device`,
    /// `association(pod:)`, `association(sid:)`): a registry may read them all at once first
    /// and answer from what it read, as long as what it answers is what a lookup would
    /// (the embedded one does, in the pass's transaction). Any other registry just runs `body`.
    func withLookups<T>(pods: [String], sids: [String], _ body: () throws -> T) throws -> T
}

extension Registry {
    public func withLookups<T>(pods: [String], sids: [String], _ body: () throws -> T) throws -> T { try body() }

    /// Correct for any registry, but it reads the whole list: an implementation with an index
    /// on (tenant, created_at, pod), as the embedded one, reads only what comes after.
    public func eachAssociation(tenant: String, after: (createdAt: Double, pod: String), _ body: (ListedAssociation) throws -> Void) throws {
        try eachAssociation(tenant: tenant) { listed in
            let a = listed.association
            if a.createdAt > after.createdAt || (a.createdAt == after.createdAt && a.pod > after.pod) { try body(listed) }
        }
    }

    /// Correct for any registry, by counting the list.
    public func associationCount(tenant: String) throws -> Int {
        var count = 0
        try eachAssociation(tenant: tenant) { _ in count += 1 }
        return count
    }

    /// Every active association, of one tenant or of all, oldest first: `eachAssociation`
    /// collected, for short lists.
    public func associations(tenant: String?) throws -> [Association] {
        var out: [Association] = []
        try eachAssociation(tenant: tenant) { out.append($0.association) }
        return out
    }
}
