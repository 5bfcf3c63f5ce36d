import MassivaDomain

/// A failure of the registry itself (not of one meter).
public enum RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The back end is down or unreachable: work pauses and is tried again later, without
    /// spending any row's attempts. *Servizio non disponibile*.
    case unavailable(String)
    /// The back end answered but failed. *Errore Interno*.
    case internalError(String)

    public var description: String {
        switch self {
        case .unavailable(let m): return "registry unavailable: \(m)"
        case .internalError(let m): return "registry internal error: \(m)"
        }
    }
}

/// The grid registry: PODs with their meters, devices, reachability, associations.
///
/// Bulk rows, single associations and searches all go through this one protocol. The embedded
/// implementation keeps everything in the engine's SQLite database, so a row's outcome and its
/// association commit in one transaction. A remote implementation (the DSO's back end) would
/// throw `RegistryError.unavailable` when it cannot be reached.
public protocol Registry: AnyObject {
    /// The POD with its meter and, for an exchange POD, its production PODs (sorted).
    func pod(_ code: String) throws -> PODRecord?
    func device(_ sid: String) throws -> DeviceRecord?
    /// Asks the telemanagement system whether the POD's meter answers now.
    func probeReachability(pod: String) throws -> Bool
    func association(pod: String) throws -> Association?
    func association(sid: String) throws -> Association?
    /// The association whose production POD is `pod`, if any.
    func association(productionPOD pod: String) throws -> Association?
    func createAssociation(_ association: Association) throws
    func deleteAssociation(pod: String) throws
    /// Every active association, of one tenant or of all.
    func associations(tenant: String?) throws -> [Association]
}
