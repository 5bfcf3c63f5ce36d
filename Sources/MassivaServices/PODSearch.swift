import MassivaDomain
import MassivaProcessing
import MassivaRegistry
import MassivaStore

/// Ricerca POD: the exchange POD first, then its production PODs (also when the POD searched is
/// one of them), each associated or not, the holder's tax code masked. The search tells whether
/// a POD is associated, but shows the SID only of the searching tenant's own association.
struct PODSearch {
    let store: StateStore
    let registry: any Registry
    let transaction: AuditedTransaction
    let probe: ProbeInAdvance

    func run(pod rawPOD: String, tenant tenantID: String, configurator: String) throws -> SearchResult {
        let pod = ServiceInput.normalize(rawPOD)
        // The exchange POD whose meter the search asks about.
        let probeAnswer = probe.prepare(tenant: tenantID) {
            guard let found = try registry.pod(pod) else { return (nil, "") }
            let exchange = found.meterType == .production ? try found.exchangePOD.flatMap { try registry.pod($0) } : found
            guard let exchange, exchange.telemanaged, exchange.eligible else { return (nil, "") }
            return (exchange.pod, "")
        }
        return try transaction.run(.search, tenant: tenantID, configurator: configurator, pod: pod,
                                   detail: { "\($0.lines.count) POD mostrati" }) {
            _ = try ServiceInput.tenant(tenantID, enabled: true, in: store)
            try ServiceInput.checkPOD(pod)
            guard let found = try registry.pod(pod) else { return .failure(.podNotFound) }
            let exchange = try exchangePOD(of: found)
            if !exchange.telemanaged { return .failure(.notUsable(code: RowCode.podNotTelemanaged.rawValue)) }
            if !exchange.eligible { return .failure(.notUsable(code: RowCode.meterNotEligible.rawValue)) }
            guard try probeAnswer.get()?(exchange.pod) ?? registry.probeReachability(pod: exchange.pod) else {
                return .failure(.notUsable(code: RowCode.meterUnreachable.rawValue))
            }
            var lines = [line(exchange, association: try registry.association(pod: exchange.pod), tenant: tenantID)]
            for code in exchange.productionPODs {
                guard let production = try registry.pod(code) else {
                    throw ServiceFailure.internalError("POD di produzione \(code) elencato ma assente in anagrafica")
                }
                lines.append(line(production, association: try registry.association(productionPOD: code), tenant: tenantID))
            }
            return .success(SearchResult(searched: pod, lines: lines))
        }
    }

    /// `found` itself, or the exchange POD of a production POD, which the registry must have.
    func exchangePOD(of found: PODRecord) throws -> PODRecord {
        guard found.meterType == .production else { return found }
        guard let code = found.exchangePOD, let record = try registry.pod(code), record.meterType == .exchange else {
            throw ServiceFailure.internalError("il POD di produzione \(found.pod) non ha un POD di scambio in anagrafica")
        }
        return record
    }

    /// Another tenant's association shows as associated, without its SID or configuration.
    func line(_ record: PODRecord, association: Association?, tenant: String) -> SearchLine {
        let own = association.flatMap { $0.tenant == tenant ? $0 : nil }
        return SearchLine(pod: record.pod, meterType: record.meterType, maskedTaxCode: TaxCodeMask.mask(record.holderTaxCode),
                          associated: association != nil, sid: own?.sid, configurationType: own?.configurationType,
                          matricola: record.matricola, eneltel: record.eneltel, gesis: record.isGesis)
    }
}
