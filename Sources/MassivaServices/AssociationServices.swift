import MassivaDomain
import MassivaProcessing
import MassivaRegistry
import MassivaResults
import MassivaStore
import MassivaSystem

/// The portal's services besides the bulk one: POD search, single association and dissociation,
/// association report, audit trail. Testable without the command line.
///
/// Every search, association and dissociation is recorded in the audit trail, refusals and
/// failures included. A service's changes (association, probe counts) and its audit entry commit
/// in one transaction; when the registry or the database fails, that transaction rolls back and
/// the failure is recorded in a transaction of its own.
///
/// An SI sees and changes only its own associations: the search tells whether a POD is
/// associated, but shows the SID only of the searching tenant's own association; dissociation
/// refuses another tenant's association; the report lists one tenant's associations (or, for the
/// operator, all of them).
public final class AssociationServices {
    public let store: StateStore
    public let registry: any Registry
    public let audit: AuditTrail
    /// When set, associazioni.csv is rewritten after an association or a dissociation.
    public var results: ResultWriter?
    public var clock: () -> Double

    /// Single associations have no retry queue: one probe, and an unreachable meter is an error.
    let rows: RowProcessor
    /// `probe_command`; nil: the registry's own probe.
    public let probe: CommandProbe?
    /// Where associations made and removed are recorded for `association_command`.
    public let outbox: Outbox?
    /// Called after a change that put an event in the outbox (the CLI wakes the daemon, whose
    /// courier delivers it).
    let onEvent: () -> Void

    public init(store: StateStore, registry: any Registry, results: ResultWriter? = nil,
                clock: @escaping () -> Double = { SystemClock.now }, probe: CommandProbe? = nil, outbox: Outbox? = nil,
                onEvent: @escaping () -> Void = {}) {
        self.store = store
        self.registry = registry
        self.audit = AuditTrail(database: store.database)
        self.results = results
        self.clock = clock
        self.probe = probe
        self.outbox = outbox
        self.onEvent = onEvent
        self.rows = RowProcessor(registry: registry, policy: ProcessingPolicy(
            maxRows: 1, maxAttempts: 1, backoff: Backoff(minimal: 0, maximal: 0), jitter: { 0 }), outbox: outbox)
    }

    /// Check 15 through `probe_command`, asked before the service's transaction (so the
    /// database's write lock is not held while the head-end answers): `plannedPOD` is the POD a
    /// read of the registry says will be probed; another POD (the registry changed meanwhile)
    /// is asked there and then. Nil without `probe_command`.
    func commandProbe(plannedPOD: String?, tenant: String, sid: String) -> RowProcessor.Probe? {
        guard let probe else { return nil }
        let planned = plannedPOD.map { ($0, probe.ask(ProbeTarget(pod: $0, tenant: tenant, sid: sid, request: ""))) }
        let ask = probe.synchronous(tenant: tenant, sid: sid, request: "")
        return { pod in
            if let (plannedPOD, answer) = planned, plannedPOD == pod { return try CommandProbe.decide(answer, pod: pod) }
            return try ask(pod)
        }
    }

    // MARK: Shared steps

    /// Trimmed and ASCII-upper-cased by the bulk rows' own function, so a POD or SID typed here
    /// is read exactly as in a file (`ı`, `ß`, `ſ` never become ASCII letters).
    static func normalize(_ value: String) -> String { RequestFile.normalise(value) }

    /// The tenant, which must exist; `forChange` also requires it enabled.
    func tenant(_ id: String, enabled: Bool) throws -> Tenant {
        guard let tenant = try store.tenant(id) else {
            throw ServiceFailure.badInput("unknown tenant \"\(id)\" (see massiva tenant list)", code: "UNKNOWN_TENANT")
        }
        if enabled && !tenant.enabled {
            throw ServiceFailure(.refused, "la ditta configuratrice \"\(id)\" è disabilitata", code: "TENANT_DISABLED")
        }
        return tenant
    }

    static func checkPOD(_ pod: String) throws {
        if pod.isEmpty || pod.utf8.count > Identifiers.maxPODLength || !Identifiers.isValidPOD(pod) {
            throw ServiceFailure.badInput("\(RowCode.invalidPOD.description): \"\(pod)\"", code: RowCode.invalidPOD.rawValue)
        }
    }

    /// Runs `body` in one transaction together with its audit entry. `body` returns its value or
    /// a refusal; a refusal still commits (probe counts, the audit entry) and is thrown after.
    /// A thrown error rolls everything back; it is then recorded on its own and thrown as a
    /// `ServiceFailure`.
    func audited<T>(_ action: AuditEntry.Action, tenant: String, configurator: String, pod: String, sid: String = "",
                    detail: (T) -> String = { _ in "" },
                    _ body: () throws -> Result<T, ServiceFailure>) throws -> T {
        let now = clock()
        func entry(_ outcome: String, _ text: String) -> AuditEntry {
            AuditEntry(at: now, tenant: tenant, configurator: configurator, action: action, pod: pod, sid: sid,
                       outcome: outcome, detail: text)
        }
        let result: Result<T, ServiceFailure>
        do {
            result = try store.database.transaction {
                let result = try body()
                switch result {
                case .success(let value): try audit.record(entry("OK", detail(value)))
                case .failure(let failure): try audit.record(entry(failure.code, failure.description))
                }
                return result
            }
        } catch {
            let failure = ServiceFailure.from(error)
            try? store.database.transaction { try audit.record(entry(failure.code, failure.description)) }
            throw failure
        }
        return try result.get()
    }

    // MARK: Search

    /// Ricerca POD: the exchange POD first, then its production PODs (also when `pod` is one of
    /// them), each associated or not, the holder's tax code masked.
    public func search(pod rawPOD: String, tenant tenantID: String, configurator: String) throws -> SearchResult {
        let pod = Self.normalize(rawPOD)
        var probeAnswer: RowProcessor.Probe?
        if probe != nil, (try? store.tenant(tenantID))??.enabled == true {
            // The exchange POD whose meter the search asks about, read before its transaction.
            let planned = try? store.database.readTransaction { () throws -> String? in
                guard let found = try registry.pod(pod) else { return nil }
                let exchange = found.meterType == .production ? try found.exchangePOD.flatMap { try registry.pod($0) } : found
                guard let exchange, exchange.telemanaged, exchange.eligible else { return nil }
                return exchange.pod
            }
            probeAnswer = commandProbe(plannedPOD: planned ?? nil, tenant: tenantID, sid: "")
        }
        return try audited(.search, tenant: tenantID, configurator: configurator, pod: pod,
                           detail: { "\($0.lines.count) POD mostrati" }) {
            _ = try tenant(tenantID, enabled: true)
            try Self.checkPOD(pod)
            guard let found = try registry.pod(pod) else { return .failure(.podNotFound) }
            let exchange: PODRecord
            if found.meterType == .production {
                guard let exchangeCode = found.exchangePOD, let record = try registry.pod(exchangeCode),
                      record.meterType == .exchange else {
                    throw ServiceFailure.internalError("il POD di produzione \(pod) non ha un POD di scambio in anagrafica")
                }
                exchange = record
            } else {
                exchange = found
            }
            if !exchange.telemanaged { return .failure(.notUsable(code: RowCode.podNotTelemanaged.rawValue)) }
            if !exchange.eligible { return .failure(.notUsable(code: RowCode.meterNotEligible.rawValue)) }
            guard try probeAnswer?(exchange.pod) ?? registry.probeReachability(pod: exchange.pod) else {
                return .failure(.notUsable(code: RowCode.meterUnreachable.rawValue))
            }
            var lines = [try line(exchange, association: registry.association(pod: exchange.pod), tenant: tenantID)]
            for code in exchange.productionPODs {
                guard let production = try registry.pod(code) else {
                    throw ServiceFailure.internalError("POD di produzione \(code) elencato ma assente in anagrafica")
                }
                lines.append(try line(production, association: registry.association(productionPOD: code), tenant: tenantID))
            }
            return .success(SearchResult(searched: pod, lines: lines))
        }
    }

    func line(_ record: PODRecord, association: Association?, tenant: String) throws -> SearchLine {
        let own = association.flatMap { $0.tenant == tenant ? $0 : nil }
        return SearchLine(pod: record.pod, meterType: record.meterType, maskedTaxCode: TaxCodeMask.mask(record.holderTaxCode),
                          associated: association != nil, sid: own?.sid, configurationType: own?.configurationType,
                          matricola: record.matricola, eneltel: record.eneltel, gesis: record.isGesis)
    }

    // MARK: Single association

    /// Creates one association through the bulk rows' code path (`RowProcessor.attempt`) and
    /// writes its SCP file `<SID>_<POD>.scp` into `request.scpDirectory`, atomically.
    public func associate(_ request: AssociateRequest) throws -> AssociateResult {
        let pod = Self.normalize(request.pod), sid = Self.normalize(request.sid)
        let production = request.productionPOD.map(Self.normalize)
        let directory = request.scpDirectory
        let now = clock()
        var made: (record: RowRecord, association: Association)?
        var probeAnswer: RowProcessor.Probe?
        if probe != nil, (try? store.tenant(request.tenant))??.enabled == true,
           let type = ConfigurationType(parsing: Self.normalize(request.configurationType)) {
            let context = AssociationContext(tenant: request.tenant, configurator: request.configurator, request: nil)
            let record = RowRecord(position: 0, line: 0, pod: pod, sid: sid, configuration: type.rawValue, state: .error, code: .invalidRow)
            let planned = try? store.database.readTransaction {
                try rows.podToProbe(ValidRow(pod: pod, sid: sid, configurationType: type), record: record, context: context,
                                    productionPOD: production, now: now)
            }
            probeAnswer = commandProbe(plannedPOD: planned ?? nil, tenant: request.tenant, sid: sid)
        }
        try audited(.associate, tenant: request.tenant, configurator: request.configurator, pod: pod, sid: sid,
                    detail: { _ in made.map { "\($0.association.configurationType.rawValue) \($0.association.productionPOD ?? "")" } ?? "" }) {
            () throws -> Result<Void, ServiceFailure> in
            _ = try tenant(request.tenant, enabled: true)
            // Checks 2–4 of a bulk row, before the registry is asked anything.
            try Self.checkPOD(pod)
            if Identifiers.isNID(sid) { throw ServiceFailure.fromRow(.nidNotAllowed) }
            if !Identifiers.isValidSID(sid) { throw ServiceFailure(.badInput, "\(RowCode.invalidSID.description): \"\(sid)\"", code: RowCode.invalidSID.rawValue) }
            guard let type = ConfigurationType(parsing: Self.normalize(request.configurationType)) else {
                throw ServiceFailure(.badInput, "\(RowCode.invalidConfigType.description): \"\(request.configurationType)\"",
                                     code: RowCode.invalidConfigType.rawValue)
            }
            if let production {
                guard type == .prosumer else {
                    throw ServiceFailure.badInput("--production-pod is only for a Prosumer configuration", code: "PRODUCTION_POD_NOT_ALLOWED")
                }
                try Self.checkPOD(production)
            }
            guard (try? FileStatus.of(directory))?.kind == .directory else {
                throw ServiceFailure.badInput("\(directory): not a directory (where the SCP file is written)", code: "INVALID_OUTPUT")
            }
            if let production, let exchange = try registry.pod(pod), exchange.meterType == .exchange,
               !exchange.productionPODs.contains(production) {
                throw ServiceFailure.badInput("il POD di produzione \(production) non appartiene al POD di scambio \(pod)"
                                              + (exchange.productionPODs.isEmpty ? "" : " (POD di produzione: \(exchange.productionPODs.joined(separator: ", ")))"),
                                              code: "PRODUCTION_POD_MISMATCH")
            }
            var record = RowRecord(position: 0, line: 0, pod: pod, sid: sid, configuration: type.rawValue, state: .error, code: .invalidRow)
            try rows.attempt(ValidRow(pod: pod, sid: sid, configurationType: type), record: &record,
                             context: AssociationContext(tenant: request.tenant, configurator: request.configurator, request: nil),
                             productionPOD: production, now: now, probe: probeAnswer)
            guard record.code == .ok else { return .failure(.fromRow(record.code)) }
            guard let association = try registry.association(pod: pod) else {
                throw ServiceFailure.internalError("associazione non trovata dopo la creazione")
            }
            try store.markAssociationsChanged(tenant: request.tenant)
            made = (record, association)
            return .success(())
        }
        guard let made else { throw ServiceFailure.internalError("nessun esito") }
        let script = ScpScript(requestID: AssociateResult.scpRequestLabel, generatedAt: SystemClock.iso8601(now),
                               deviceType: made.record.deviceType, sid: sid, nid: made.record.nid,
                               configurationType: made.association.configurationType, exchangePOD: pod,
                               productionPOD: made.association.productionPOD, matricola: made.record.matricola,
                               eneltel: made.record.eneltel, gesis: made.record.gesis)
        let path = (directory.hasSuffix("/") ? directory : directory + "/") + script.fileName
        var result = AssociateResult(association: made.association, record: made.record, script: script, scpPath: path)
        do {
            try AtomicFile.write(script.render(), to: path, temporaryDirectory: FileSystem.parentDirectory(of: path))
        } catch {
            result.scpError = "\(error)"
        }
        refreshLists(&result.warnings)
        if outbox != nil { onEvent() }
        return result
    }

    /// Removes the tenant's association of `pod` (the exchange POD); refuses another tenant's.
    public func dissociate(pod rawPOD: String, tenant tenantID: String, configurator: String) throws -> Association {
        let pod = Self.normalize(rawPOD)
        var removed: Association?
        try audited(.dissociate, tenant: tenantID, configurator: configurator, pod: pod,
                    detail: { _ in removed.map { "SID \($0.sid)" } ?? "" }) { () throws -> Result<Void, ServiceFailure> in
            _ = try tenant(tenantID, enabled: true)
            try Self.checkPOD(pod)
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
            try store.markAssociationsChanged(tenant: tenantID)
            removed = association
            return .success(())
        }
        var warnings: [String] = []
        refreshLists(&warnings)
        if outbox != nil && removed != nil { onEvent() }
        guard let removed else { throw ServiceFailure.internalError("nessun esito") }
        return removed
    }

    /// associazioni.csv after a change; a failure leaves it stale for the daemon's next pass.
    func refreshLists(_ warnings: inout [String]) {
        guard let results else { return }
        do { try results.refreshAssociationLists(from: registry) } catch {
            warnings.append("associazioni.csv not refreshed now (the daemon retries): \(error)")
        }
    }

    // MARK: Report

    /// Report associazioni (Tabella 1, plus GESIS), oldest first, streamed from the registry.
    public func report(_ filter: ReportFilter) throws -> [AssociationListRow] {
        if let tenant = filter.tenant { _ = try self.tenant(tenant, enabled: false) }
        let names = Dictionary(try store.tenants().map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let pod = filter.pod.map(Self.normalize), sid = filter.sid.map(Self.normalize), nid = filter.nid.map(Self.normalize)
        let configurator = filter.configurator.map { $0.lowercased() }
        var out: [AssociationListRow] = []
        try registry.eachAssociation(tenant: filter.tenant) { listed in
            let a = listed.association
            if let pod, a.pod != pod && a.productionPOD != pod { return }
            if let sid, a.sid != sid { return }
            if let nid, a.nid.uppercased() != nid { return }
            if let configurator, !a.configurator.lowercased().contains(configurator) { return }
            if !filter.dates.contains(a.createdAt) { return }
            out.append(AssociationListRow(listed, tenantName: names[a.tenant] ?? a.tenant))
        }
        return out
    }

    // MARK: Audit

    public func auditEntries(tenant: String?, pod: String?, dates: DateRange) throws -> [AuditEntry] {
        if let tenant { _ = try self.tenant(tenant, enabled: false) }
        let bounds = dates.seconds
        return try audit.entries(AuditTrail.Filter(tenant: tenant, pod: pod.map(Self.normalize), from: bounds.from, to: bounds.to))
    }
}

// MARK: Values

/// One line of a search result.
public struct SearchLine: Sendable, Equatable {
    public var pod: String
    public var meterType: PODRecord.MeterType
    public var maskedTaxCode: String
    /// Associated by anyone (another SI's association shows as associated, without details).
    public var associated: Bool
    /// The SID and configuration of the searching tenant's own association; nil otherwise.
    public var sid: String?
    public var configurationType: ConfigurationType?
    public var matricola: String
    public var eneltel: String
    public var gesis: Bool

    public var associationLabel: String { associated ? "ASSOCIATO" : "NON ASSOCIATO" }
}

public struct SearchResult: Sendable, Equatable {
    /// The POD searched (normalized).
    public var searched: String
    /// The exchange POD first, then its production PODs in alphabetical order.
    public var lines: [SearchLine]
}

public struct AssociateRequest: Sendable {
    public var tenant: String
    public var pod: String
    public var sid: String
    /// `Standard` or `Prosumer`, any case.
    public var configurationType: String
    /// Prosumer only: the production POD to bind, default the first alphabetically.
    public var productionPOD: String?
    public var configurator: String
    /// Where `<SID>_<POD>.scp` is written.
    public var scpDirectory: String

    public init(tenant: String, pod: String, sid: String, configurationType: String, productionPOD: String? = nil,
                configurator: String, scpDirectory: String) {
        self.tenant = tenant
        self.pod = pod
        self.sid = sid
        self.configurationType = configurationType
        self.productionPOD = productionPOD
        self.configurator = configurator
        self.scpDirectory = scpDirectory
    }
}

public struct AssociateResult: Sendable {
    /// The `request` line of the SCP script of a single association.
    public static let scpRequestLabel = "ASSOCIAZIONE-SINGOLA"

    public var association: Association
    /// The outcome as a bulk row would show it (matricola, Eneltel, GESIS, NID, …).
    public var record: RowRecord
    public var script: ScpScript
    public var scpPath: String
    /// Set when the association was made but its SCP file could not be written.
    public var scpError: String?
    public var warnings: [String] = []
}

public struct ReportFilter: Sendable {
    /// nil: every tenant (operator).
    public var tenant: String?
    public var pod: String?
    public var sid: String?
    public var nid: String?
    /// Case-insensitive substring of the configurator's name.
    public var configurator: String?
    public var dates: DateRange

    public init(tenant: String?, pod: String? = nil, sid: String? = nil, nid: String? = nil, configurator: String? = nil,
                dates: DateRange = DateRange()) {
        self.tenant = tenant
        self.pod = pod
        self.sid = sid
        self.nid = nid
        self.configurator = configurator
        self.dates = dates
    }
}
