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
    /// Whose rights the SCP files are written with: the folder (`--out`) is the operator's,
    /// while the CLI acts on the spool as its owner.
    public let caller: CallerIdentity

    public init(store: StateStore, registry: any Registry, results: ResultWriter? = nil,
                clock: @escaping () -> Double = { SystemClock.now }, probe: CommandProbe? = nil, outbox: Outbox? = nil,
                onEvent: @escaping () -> Void = {}, caller: CallerIdentity = .current) {
        self.store = store
        self.registry = registry
        self.audit = store.auditTrail()
        self.results = results
        self.clock = clock
        self.probe = probe
        self.outbox = outbox
        self.onEvent = onEvent
        self.caller = caller
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
            result = try store.transaction {
                let result = try body()
                switch result {
                case .success(let value): try audit.record(entry("OK", detail(value)))
                case .failure(let failure): try audit.record(entry(failure.code, failure.description))
                }
                return result
            }
        } catch {
            let failure = ServiceFailure.from(error)
            try? store.transaction { try audit.record(entry(failure.code, failure.description)) }
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
            let planned = try? store.readTransaction { () throws -> String? in
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
    /// writes its SCP file `<SID>_<POD>.scp` into `request.scpDirectory`, atomically, before the
    /// association commits: a file that cannot be written leaves no association behind (exit 1),
    /// so an association never stands without the SI having had its SCP. The same file can be
    /// written again at any time with `scp`.
    ///
    /// The device is named by its SID, its NID (the portal's form takes "ID dispositivo e/o
    /// NID"), or both, which must then be the same device. An unknown NID reaches the row's
    /// checks as an unknown device (check 10), so the checks keep the bulk rows' order.
    public func associate(_ request: AssociateRequest) throws -> AssociateResult {
        let pod = Self.normalize(request.pod)
        let givenSID = request.sid.map(Self.normalize).flatMap { $0.isEmpty ? nil : $0 }
        let nid = request.nid.map(Self.normalize).flatMap { $0.isEmpty ? nil : $0 }
        let production = request.productionPOD.map(Self.normalize)
        let directory = request.scpDirectory
        let now = clock()
        var made: (record: RowRecord, association: Association, script: ScpScript, tenantName: String)?
        var written: String?
        // The audit's SID column holds the device as it was typed: the NID when only that was
        // given (the SID it names may be another SI's).
        let typedDevice = givenSID ?? nid ?? ""
        var probeAnswer: RowProcessor.Probe?
        var probedSID = ""
        if probe != nil, (try? store.tenant(request.tenant))??.enabled == true,
           let type = ConfigurationType(parsing: Self.normalize(request.configurationType)) {
            // The POD check 15 will ask about, read before the transaction (nothing written).
            let context = AssociationContext(tenant: request.tenant, configurator: request.configurator,
                                             person: request.person, request: nil)
            let planned = try? store.readTransaction { () throws -> String? in
                let sid = try resolveDevice(sid: givenSID, nid: nid)
                probedSID = sid
                let record = RowRecord(position: 0, line: 0, pod: pod, sid: sid, configuration: type.rawValue, state: .error,
                                       code: .invalidRow)
                return try rows.podToProbe(ValidRow(pod: pod, sid: sid, configurationType: type), record: record,
                                           context: context, productionPOD: production, now: now)
            }
            probeAnswer = commandProbe(plannedPOD: planned ?? nil, tenant: request.tenant, sid: probedSID)
        }
        do {
            try audited(.associate, tenant: request.tenant, configurator: request.configurator, pod: pod, sid: typedDevice,
                        detail: { _ in made.map { m in
                            "\(m.association.configurationType.rawValue) \(m.association.productionPOD ?? "")"
                            + (givenSID == nil ? " SID \(m.association.sid)" : "") } ?? "" }) {
                () throws -> Result<Void, ServiceFailure> in
                let tenant = try tenant(request.tenant, enabled: true)
                // Checks 2–4 of a bulk row, before the registry is asked anything.
                try Self.checkPOD(pod)
                guard givenSID != nil || nid != nil else {
                    throw ServiceFailure.badInput("give the device: --sid SID, --nid NID, or both", code: "NO_DEVICE")
                }
                if let givenSID {
                    if Identifiers.isNID(givenSID) { throw ServiceFailure.fromRow(.nidNotAllowed) }
                    if !Identifiers.isValidSID(givenSID) {
                        throw ServiceFailure(.badInput, "\(RowCode.invalidSID.description): \"\(givenSID)\"", code: RowCode.invalidSID.rawValue)
                    }
                }
                if let nid, !Identifiers.isNID(nid) {
                    throw ServiceFailure(.badInput, "NID non valido (12 caratteri esadecimali): \"\(nid)\"", code: "INVALID_NID")
                }
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
                try Self.checkOutputDirectory(directory, caller: caller)
                if let production, let exchange = try registry.pod(pod), exchange.meterType == .exchange,
                   !exchange.productionPODs.contains(production) {
                    throw ServiceFailure.badInput("il POD di produzione \(production) non appartiene al POD di scambio \(pod)"
                                                  + (exchange.productionPODs.isEmpty ? "" : " (POD di produzione: \(exchange.productionPODs.joined(separator: ", ")))"),
                                                  code: "PRODUCTION_POD_MISMATCH")
                }
                let sid = try resolveDevice(sid: givenSID, nid: nid)
                try checkDeviceType(request.deviceType, sid: sid, tenant: request.tenant)
                var record = RowRecord(position: 0, line: 0, pod: pod, sid: sid, configuration: type.rawValue, state: .error, code: .invalidRow)
                try rows.attempt(ValidRow(pod: pod, sid: sid, configurationType: type), record: &record,
                                 context: AssociationContext(tenant: request.tenant, configurator: request.configurator,
                                                             person: request.person, request: nil),
                                 productionPOD: production, now: now, probe: probeAnswer)
                guard record.code == .ok else { return .failure(.fromRow(record.code)) }
                guard let association = try registry.association(pod: pod), let podRecord = try registry.pod(pod) else {
                    throw ServiceFailure.internalError("associazione non trovata dopo la creazione")
                }
                try store.markAssociationsChanged(tenant: request.tenant)
                let script = Self.script(for: association, pod: podRecord)
                written = try Self.write(script, into: directory, caller: caller)
                made = (record, association, script, tenant.name)
                return .success(())
            }
        } catch {
            // The association rolled back (or never committed): its file must not stay behind.
            if let written { caller.run { try? FileSystem.unlink(written) } }
            throw error
        }
        guard let made, let written else { throw ServiceFailure.internalError("nessun esito") }
        var result = AssociateResult(association: made.association, record: made.record, script: made.script, scpPath: written,
                                     tenantName: made.tenantName)
        refreshLists(&result.warnings)
        if outbox != nil { onEvent() }
        return result
    }

    /// The SID of the device named by `sid`, `nid` or both. Both must name the same device;
    /// when neither is known the SID goes on to check 10 (`DEVICE_NOT_FOUND`), and so does an
    /// unknown NID alone (as the empty SID, which no device has). The refusal of a mismatch says
    /// nothing of either device (the NID may be another SI's).
    func resolveDevice(sid: String?, nid: String?) throws -> String {
        guard let nid else { return sid ?? "" }
        let byNID = try registry.device(nid: nid)
        guard let sid else { return byNID?.sid ?? "" }
        if byNID?.sid == sid { return sid }
        if byNID == nil, try registry.device(sid) == nil { return sid }
        throw ServiceFailure.badInput("SID \(sid) e NID \(nid) non indicano lo stesso dispositivo", code: "SID_NID_MISMATCH")
    }

    /// The form's Tipo Dispositivo, when given: the tenant's own device must be of that type.
    /// Another SI's device, or an unknown one, goes on to the row's checks (10, 11), which
    /// refuse it without saying what it is.
    func checkDeviceType(_ requested: String?, sid: String, tenant: String) throws {
        guard let requested else { return }
        let key = { (t: String) in String(t.asciiUppercased().filter { !$0.isWhitespace }) }
        guard ["MOME", "SMARTINFO"].contains(key(requested)) else {
            throw ServiceFailure.badInput("Tipo Dispositivo non valido: \"\(requested)\" (MOME o Smart Info)", code: "INVALID_DEVICE_TYPE")
        }
        guard let device = try registry.device(sid), device.owner == tenant else { return }
        if key(device.deviceType) != key(requested) {
            throw ServiceFailure.badInput("il dispositivo \(sid) è \(device.deviceType), non \(requested)", code: "DEVICE_TYPE_MISMATCH")
        }
    }

    /// `directory` must be a folder (as `caller` sees it): checked before anything is changed.
    static func checkOutputDirectory(_ directory: String, caller: CallerIdentity) throws {
        guard caller.run({ (try? FileStatus.of(directory))?.kind }) == .directory else {
            throw ServiceFailure.badInput("\(directory): not a directory (where the SCP file is written)", code: "INVALID_OUTPUT")
        }
    }

    /// The SCP/1 script of an association, from the association and its POD as the registry
    /// has them now. Generated at the association's creation time, so the script of an
    /// association is the same bytes whenever it is made (by `associate`, by `scp`, in a bulk
    /// request's scp.zip), as long as the registry's data of the POD is unchanged.
    static func script(for association: Association, pod: PODRecord) -> ScpScript {
        ScpScript(requestID: association.request ?? AssociateResult.scpRequestLabel,
                  generatedAt: SystemClock.iso8601(association.createdAt),
                  deviceType: association.deviceType, sid: association.sid, nid: association.nid,
                  configurationType: association.configurationType, exchangePOD: association.pod,
                  productionPOD: association.productionPOD, matricola: pod.matricola, eneltel: pod.eneltel, gesis: pod.isGesis)
    }

    /// Writes `script` as `<directory>/<SID>_<POD>.scp`, atomically, with `caller`'s rights; its path.
    static func write(_ script: ScpScript, into directory: String, caller: CallerIdentity) throws -> String {
        let path = (directory.hasSuffix("/") ? directory : directory + "/") + script.fileName
        do {
            try caller.run { try AtomicFile.write(script.render(), to: path, temporaryDirectory: FileSystem.parentDirectory(of: path)) }
        } catch {
            throw ServiceFailure(.notWritten, "file SCP non scritto: \(path): \(error)", code: "SCP_NOT_WRITTEN")
        }
        return path
    }

    // MARK: Scarica file di configurazione

    /// The SCP file of one of the tenant's existing associations, written again into `directory`
    /// ("Scarica file di configurazione", Figure 5/7): `pod` is its exchange POD (or its
    /// production POD). Never another tenant's association; recorded in the audit trail.
    public func scp(pod rawPOD: String, tenant tenantID: String, configurator: String, directory: String) throws -> ScpDownload {
        let pod = Self.normalize(rawPOD)
        var done: ScpDownload?
        try audited(.scp, tenant: tenantID, configurator: configurator, pod: pod,
                    detail: { _ in done.map { "SID \($0.association.sid) \($0.path)" } ?? "" }) { () throws -> Result<Void, ServiceFailure> in
            _ = try tenant(tenantID, enabled: true)
            try Self.checkPOD(pod)
            try Self.checkOutputDirectory(directory, caller: caller)
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
            let script = Self.script(for: association, pod: podRecord)
            done = ScpDownload(association: association, script: script, path: try Self.write(script, into: directory, caller: caller))
            return .success(())
        }
        guard let done else { throw ServiceFailure.internalError("nessun esito") }
        return done
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
            try store.markAssociationsChanged(tenant: tenantID, removed: true)
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
    /// As the manual's note says, at least one filter is required, or `filter.all`. Recorded in
    /// the audit trail (tenant `*` for the operator's report of every tenant), with its filters.
    public func report(_ filter: ReportFilter, configurator: String = UserName.current) throws -> [AssociationListRow] {
        try audited(.report, tenant: filter.tenant ?? "*", configurator: configurator, pod: filter.pod.map(Self.normalize) ?? "",
                    sid: filter.sid.map(Self.normalize) ?? "", detail: { "\($0.count) associazioni; \(filter.summary)" }) {
            if let tenant = filter.tenant { _ = try self.tenant(tenant, enabled: false) }
            guard filter.hasCriterion || filter.all else {
                throw ServiceFailure.badInput("valorizzare almeno un criterio di filtro (--pod, --sid, --nid, --configurator, --given-name, "
                                              + "--surname, --from, --to), o --all per tutte le associazioni", code: "NO_FILTER")
            }
            return .success(try reportRows(filter))
        }
    }

    func reportRows(_ filter: ReportFilter) throws -> [AssociationListRow] {
        let names = Dictionary(try store.tenants().map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let pod = filter.pod.map(Self.normalize), sid = filter.sid.map(Self.normalize), nid = filter.nid.map(Self.normalize)
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
    /// The device's SID, its NID, or both (then the same device).
    public var sid: String?
    public var nid: String?
    /// Tipo Dispositivo (`MOME`, `Smart Info`), when given: checked against the device.
    public var deviceType: String?
    /// `Standard` or `Prosumer`, any case.
    public var configurationType: String
    /// Prosumer only: the production POD to bind, default the first alphabetically.
    public var productionPOD: String?
    /// NOME CONFIGURATORE.
    public var configurator: String
    /// The same person's given name and surname, when the configurator is an SI account.
    public var person: PersonName
    /// Where `<SID>_<POD>.scp` is written.
    public var scpDirectory: String

    public init(tenant: String, pod: String, sid: String?, nid: String? = nil, deviceType: String? = nil, configurationType: String,
                productionPOD: String? = nil, configurator: String, person: PersonName = .unknown, scpDirectory: String) {
        self.tenant = tenant
        self.pod = pod
        self.sid = sid
        self.nid = nid
        self.deviceType = deviceType
        self.configurationType = configurationType
        self.productionPOD = productionPOD
        self.configurator = configurator
        self.person = person
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
    /// Where the SCP file was written (before the association committed).
    public var scpPath: String
    /// The tenant's ragione sociale (the form's System Integrator).
    public var tenantName: String
    public var warnings: [String] = []
}

/// What `scp` wrote.
public struct ScpDownload: Sendable {
    public var association: Association
    public var script: ScpScript
    public var path: String
}

public struct ReportFilter: Sendable {
    /// nil: every tenant (operator).
    public var tenant: String?
    public var pod: String?
    public var sid: String?
    public var nid: String?
    /// Case-insensitive substring of the configurator's name.
    public var configurator: String?
    /// Nome Configuratore, Cognome Configuratore: case-insensitive substrings of the parts.
    public var givenName: String?
    public var surname: String?
    public var dates: DateRange
    /// No filter, on purpose (`--all`): every association of the tenant (or of all).
    public var all: Bool

    public init(tenant: String?, pod: String? = nil, sid: String? = nil, nid: String? = nil, configurator: String? = nil,
                givenName: String? = nil, surname: String? = nil, dates: DateRange = DateRange(), all: Bool = false) {
        self.tenant = tenant
        self.pod = pod
        self.sid = sid
        self.nid = nid
        self.configurator = configurator
        self.givenName = givenName
        self.surname = surname
        self.dates = dates
        self.all = all
    }

    /// The filters given, for the audit trail.
    var summary: String {
        let given: [(String, String?)] = [("pod", pod), ("sid", sid), ("nid", nid), ("configurator", configurator),
                                          ("given-name", givenName), ("surname", surname),
                                          ("from", dates.from.map { "\($0)" }), ("to", dates.to.map { "\($0)" })]
        let parts = given.compactMap { name, value in value.map { "\(name)=\($0)" } }
        return parts.isEmpty ? "all" : parts.joined(separator: " ")
    }

    /// The manual's note: at least one filter (the tenant is not one), else an explicit "all".
    public var hasCriterion: Bool {
        [pod, sid, nid, configurator, givenName, surname].contains { $0 != nil } || dates.from != nil || dates.to != nil
    }
}
