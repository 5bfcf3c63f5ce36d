import MassivaDomain
import MassivaRegistry
import MassivaResults
import MassivaStore

/// Report associazioni (Tabella 1, plus GESIS), oldest first, streamed from the registry: one
/// tenant's associations, or for the operator every tenant's (audited as tenant `*`). As the
/// manual's note says, at least one filter is required, or a request for all of them.
struct AssociationReport {
    let store: StateStore
    let registry: any Registry
    let transaction: AuditedTransaction

    func run(_ filter: ReportFilter, configurator: String) throws -> [AssociationListRow] {
        try transaction.run(.report, tenant: filter.tenant ?? "*", configurator: configurator,
                            pod: filter.pod.map(ServiceInput.normalize) ?? "", sid: filter.sid.map(ServiceInput.normalize) ?? "",
                            detail: { "\($0.count) associazioni; \(filter.summary)" }) {
            if let tenant = filter.tenant { _ = try ServiceInput.tenant(tenant, enabled: false, in: store) }
            guard filter.hasCriterion || filter.all else { throw ServiceFailure.invalid(.noReportFilter) }
            return .success(try rows(filter))
        }
    }

    func rows(_ filter: ReportFilter) throws -> [AssociationListRow] {
        let names = Dictionary(try store.tenants().map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let pod = filter.pod.map(ServiceInput.normalize), sid = filter.sid.map(ServiceInput.normalize)
        let nid = filter.nid.map(ServiceInput.normalize)
        let configurator = filter.configurator.map { $0.lowercased() }
        let givenName = filter.givenName.map { $0.trimmingWhitespace().lowercased() }
        let surname = filter.surname.map { $0.trimmingWhitespace().lowercased() }
        var out: [AssociationListRow] = []
        try registry.eachAssociation(tenant: filter.tenant) { listed in
            let a = listed.association
            if let pod, a.pod != pod && a.productionPOD != pod { return }
            if let sid, a.sid != sid { return }
            if let nid, a.nid.uppercased() != nid { return }
            if let configurator, !a.configurator.lowercased().contains(configurator) { return }
            // Nome / Cognome Configuratore: on the parts recorded apart; an association whose
            // configurator was no SI account (parts unknown) matches neither.
            if let givenName, !a.configuratorPerson.givenName.lowercased().contains(givenName) { return }
            if let surname, !a.configuratorPerson.surname.lowercased().contains(surname) { return }
            if !filter.dates.contains(a.createdAt) { return }
            out.append(AssociationListRow(listed, tenantName: names[a.tenant] ?? a.tenant))
        }
        return out
    }
}
