import MassivaRegistry
import MassivaStore
import MassivaSystem

/// Scarica file di configurazione (Figure 5 and 7): the SCP file of one of the tenant's
/// existing associations, written again, named by its exchange POD or its production POD.
/// Never another tenant's association.
struct ConfigurationFileDownload {
    let store: StateStore
    let registry: any Registry
    let transaction: AuditedTransaction
    /// Whose rights the SCP file is written with.
    let caller: CallerIdentity

    func run(pod rawPOD: String, tenant tenantID: String, configurator: String, directory: String) throws -> ScpDownload {
        let pod = ServiceInput.normalize(rawPOD)
        return try transaction.run(.scp, tenant: tenantID, configurator: configurator, pod: pod,
                                   detail: { (done: ScpDownload) in "SID \(done.association.sid) \(done.path)" }) {
            let tenant = try ServiceInput.tenant(tenantID, enabled: true, in: store)
            try ServiceInput.checkPOD(pod)
            try ServiceInput.checkOutputDirectory(directory, caller: caller)
            var found = try registry.association(pod: pod)
            if found == nil, let viaProduction = try registry.association(productionPOD: pod), viaProduction.tenant == tenantID {
                found = viaProduction
            }
            guard let association = found else {
                return .failure(ServiceFailure(.refused, "POD \(pod) non associato", code: "NOT_ASSOCIATED"))
            }
            guard association.tenant == tenantID else {
                return .failure(ServiceFailure(.refused, "POD \(pod) associato da un'altra ditta configuratrice", code: "NOT_OWNED"))
            }
            guard let podRecord = try registry.pod(association.pod) else {
                throw ServiceFailure.internalError("il POD \(association.pod) associato non è più in anagrafica")
            }
            let script = ScpFile.script(for: association, pod: podRecord)
            return .success(ScpDownload(association: association, script: script, path: try ScpFile.write(script, into: directory, caller: caller),
                                        tenantName: tenant.name))
        }
    }
}
