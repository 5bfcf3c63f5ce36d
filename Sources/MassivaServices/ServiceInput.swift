import MassivaDomain
import MassivaStore
import MassivaSystem

/// The checks every service starts with, before the registry is asked anything.
enum ServiceInput {
    /// Trimmed and ASCII-upper-cased by the bulk rows' own function, so a POD or SID typed here
    /// is read exactly as in a file (`ı`, `ß`, `ſ` never become ASCII letters).
    static func normalize(_ value: String) -> String { RequestFile.normalise(value) }

    /// The tenant, which must exist; `enabled` (for a change or a search) also requires it
    /// enabled.
    static func tenant(_ id: String, enabled: Bool, in store: StateStore) throws -> Tenant {
        guard let tenant = try store.tenant(id) else { throw ServiceFailure.invalid(.unknownTenant(id)) }
        if enabled && !tenant.enabled {
            throw ServiceFailure(.refused, "la ditta configuratrice \"\(id)\" è disabilitata", code: "TENANT_DISABLED")
        }
        return tenant
    }

    /// Checks 2 and 3 of a bulk row: a POD of the right form.
    static func checkPOD(_ pod: String) throws {
        if pod.isEmpty || pod.utf8.count > Identifiers.maxPODLength || !Identifiers.isValidPOD(pod) {
            throw ServiceFailure.badInput("\(RowCode.invalidPOD.description): \"\(pod)\"", code: RowCode.invalidPOD.rawValue)
        }
    }

    /// `directory` must be a folder (as `caller` sees it): checked before anything is changed. A folder that cannot
    /// be looked at says why (a permission, a loop), rather than that it is no folder.
    static func checkOutputDirectory(_ directory: String, caller: CallerIdentity) throws {
        let notAFolder = ServiceFailure.badInput("\(directory): not a directory (where the SCP file is written)", code: "INVALID_OUTPUT")
        do {
            guard try caller.run({ try FileStatus.of(directory).kind }) == .directory else { throw notAFolder }
        } catch let error as SystemError where error.errno != .noSuchFileOrDirectory && error.errno != .notDirectory {
            throw ServiceFailure.badInput("\(directory): \(error.errno) (where the SCP file is written)", code: "INVALID_OUTPUT")
        } catch is SystemError {
            throw notAFolder
        }
    }
}
