import MassivaDomain
import MassivaProcessing
import MassivaRegistry
import MassivaStore
import MassivaSystem

/// Associazione singola: one association through the bulk rows' code path
/// (`RowProcessor.attempt`), its SCP file `<SID>_<POD>.scp` written into the request's folder,
/// atomically, before the association commits: a file that cannot be written leaves no
/// association behind (`notWritten`), so an association never stands without the SI having had
/// its SCP. The same file can be written again at any time (`ConfigurationFileDownload`).
///
/// The device is named by its SID, its NID (the portal's form takes "ID dispositivo e/o NID"),
/// or both, which must then be the same device. An unknown NID reaches the row's checks as an
/// unknown device (check 10), so the checks keep the bulk rows' order.
struct SingleAssociation {
    let store: StateStore
    let registry: any Registry
    /// One probe, no retry queue: an unreachable meter is an error.
    let rows: RowProcessor
    let transaction: AuditedTransaction
    let probe: ProbeInAdvance
    let after: AfterAssociationChange
    let clock: () -> Double
    /// Whose rights the SCP file is written with.
    let caller: CallerIdentity

    /// What the transaction made.
    struct Made {
        var record: RowRecord
        var association: Association
        var script: ScpScript
        var path: String
        var tenantName: String
    }

    func run(_ request: AssociateRequest) throws -> AssociateResult {
        let pod = ServiceInput.normalize(request.pod)
        let givenSID = request.sid.map(ServiceInput.normalize).flatMap { $0.isEmpty ? nil : $0 }
        let nid = request.nid.map(ServiceInput.normalize).flatMap { $0.isEmpty ? nil : $0 }
        let production = request.productionPOD.map(ServiceInput.normalize)
        let type = ConfigurationType(parsing: ServiceInput.normalize(request.configurationType))
        let context = AssociationContext(tenant: request.tenant, configurator: request.configurator,
                                         person: request.person, request: nil)
        let now = clock()
        // The POD check 15 will ask about (an invalid type never gets there).
        let probeAnswer = type.map { type in
            probe.prepare(tenant: request.tenant) {
                let sid = try resolveDevice(sid: givenSID, nid: nid)
                let record = RowRecord(position: 0, line: 0, pod: pod, sid: sid, configuration: type.rawValue, state: .error,
                                       code: .invalidRow)
                return (try rows.podToProbe(ValidRow(pod: pod, sid: sid, configurationType: type), record: record,
                                            context: context, productionPOD: production, now: now), sid)
            }
        } ?? .success(nil)
        var written: String?
        let made: Made
        do {
            // The audit's SID column holds the device as it was typed: the NID when only that
            // was given (the SID it names may be another SI's).
            made = try transaction.run(.associate, tenant: request.tenant, configurator: request.configurator, pod: pod,
                                       sid: givenSID ?? nid ?? "",
                                       detail: { (made: Made) in
                                           "\(made.association.configurationType.rawValue) \(made.association.productionPOD ?? "")"
                                               + (givenSID == nil ? " SID \(made.association.sid)" : "") }) {
                let tenant = try ServiceInput.tenant(request.tenant, enabled: true, in: store)
                // Checks 2–4 of a bulk row, before the registry is asked anything.
                try ServiceInput.checkPOD(pod)
                try Self.checkDevice(sid: givenSID, nid: nid)
                guard let type else {
                    throw ServiceFailure(.badInput, "\(RowCode.invalidConfigType.description): \"\(request.configurationType)\"",
                                         code: RowCode.invalidConfigType.rawValue)
                }
                if let production {
                    guard type == .prosumer else { throw ServiceFailure.invalid(.productionPODNotProsumer) }
                    try ServiceInput.checkPOD(production)
                }
                try ServiceInput.checkOutputDirectory(request.scpDirectory, caller: caller)
                try checkProduction(production, of: pod)
                let sid = try resolveDevice(sid: givenSID, nid: nid)
                try checkDeviceType(request.deviceType, sid: sid, tenant: request.tenant)
                var record = RowRecord(position: 0, line: 0, pod: pod, sid: sid, configuration: type.rawValue, state: .error, code: .invalidRow)
                try rows.attempt(ValidRow(pod: pod, sid: sid, configurationType: type), record: &record, context: context,
                                 productionPOD: production, now: now, probe: try probeAnswer.get())
                guard record.code == .ok else { return .failure(.fromRow(record.code)) }
                guard let association = try registry.association(pod: pod), let podRecord = try registry.pod(pod) else {
                    throw ServiceFailure.internalError("associazione non trovata dopo la creazione")
                }
                try store.markAssociationsChanged(tenant: request.tenant)
                let script = ScpFile.script(for: association, pod: podRecord)
                let path = try ScpFile.write(script, into: request.scpDirectory, caller: caller)
                written = path
                return .success(Made(record: record, association: association, script: script, path: path, tenantName: tenant.name))
            }
        } catch {
            // The association rolled back (or never committed): its file must not stay behind.
            if let written { caller.run { try? FileSystem.unlink(written) } }
            throw error
        }
        return AssociateResult(association: made.association, record: made.record, script: made.script, scpPath: made.path,
                               tenantName: made.tenantName, warnings: after.run())
    }

    /// The device as typed: a SID (not a NID in its place), a NID, or both.
    static func checkDevice(sid: String?, nid: String?) throws {
        guard sid != nil || nid != nil else { throw ServiceFailure.invalid(.noDevice) }
        if let sid {
            if Identifiers.isNID(sid) { throw ServiceFailure.fromRow(.nidNotAllowed) }
            if !Identifiers.isValidSID(sid) {
                throw ServiceFailure(.badInput, "\(RowCode.invalidSID.description): \"\(sid)\"", code: RowCode.invalidSID.rawValue)
            }
        }
        if let nid, !Identifiers.isNID(nid) {
            throw ServiceFailure(.badInput, "NID non valido (12 caratteri esadecimali): \"\(nid)\"", code: "INVALID_NID")
        }
    }

    /// A production POD given must be one of the exchange POD's (when the registry knows it as
    /// an exchange POD; otherwise the row's checks say what it is).
    func checkProduction(_ production: String?, of pod: String) throws {
        guard let production, let exchange = try registry.pod(pod), exchange.meterType == .exchange,
              !exchange.productionPODs.contains(production) else { return }
        throw ServiceFailure.badInput("il POD di produzione \(production) non appartiene al POD di scambio \(pod)"
                                      + (exchange.productionPODs.isEmpty ? "" : " (POD di produzione: \(exchange.productionPODs.joined(separator: ", ")))"),
                                      code: "PRODUCTION_POD_MISMATCH")
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
}
