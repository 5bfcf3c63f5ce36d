import MassivaDomain
import MassivaRegistry
import MassivaStore

/// Elimina associazione: removes the tenant's association of an exchange POD; another tenant's
/// association is refused, and so is a production POD (its exchange POD is named instead).
struct SingleDissociation {
    let store: StateStore
    let registry: any Registry
    let transaction: AuditedTransaction
    /// Where the removal is recorded for `association_command`; nil without it.
    let outbox: Outbox?
    let after: AfterAssociationChange
    let clock: () -> Double

    func run(pod rawPOD: String, tenant tenantID: String, configurator: String) throws -> Association {
        let pod = ServiceInput.normalize(rawPOD)
        let removed = try transaction.run(.dissociate, tenant: tenantID, configurator: configurator, pod: pod,
                                          detail: { (removed: Association) in "SID \(removed.sid)" }) {
            _ = try ServiceInput.tenant(tenantID, enabled: true, in: store)
            try ServiceInput.checkPOD(pod)
            guard let association = try registry.association(pod: pod) else {
                if let viaProduction = try registry.association(productionPOD: pod), viaProduction.tenant == tenantID {
                    return .failure(ServiceFailure(.refused, "il POD \(pod) è di produzione: indicare il POD di scambio \(viaProduction.pod)",
                                                   code: "NOT_ASSOCIATED"))
                }
                return .failure(ServiceFailure(.refused, "POD \(pod) non associato", code: "NOT_ASSOCIATED"))
            }
            guard association.tenant == tenantID else {
                return .failure(ServiceFailure(.refused, "POD \(pod) associato da un'altra ditta configuratrice: associazione non modificabile",
                                               code: "NOT_OWNED"))
            }
            try registry.deleteAssociation(pod: pod)
            try outbox?.enqueue(.dissociated, association, now: clock())
            try store.markAssociationsChanged(tenant: tenantID, removed: true)
            return .success(association)
        }
        // A dissociation has no place for warnings: associazioni.csv not refreshed now is
        // refreshed by the daemon's next pass.
        _ = after.run()
        return removed
    }
}
