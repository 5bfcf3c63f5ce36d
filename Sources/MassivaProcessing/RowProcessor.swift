import MassivaDomain
import MassivaRegistry
import MassivaStore

/// One attempt at a row against the registry: checks 6–16 of the brief, in order.
///
/// The one code path shared by bulk rows and the single-association command. Registry outages
/// (`RegistryError`) propagate: the caller rolls back and pauses, and the attempt is not counted.
public struct RowProcessor {
    public let registry: any Registry
    public let policy: ProcessingPolicy
    /// Where an association made is recorded for `association_command`, in the same
    /// transaction; nil when no command is configured.
    public var outbox: Outbox?

    public init(registry: any Registry, policy: ProcessingPolicy, outbox: Outbox? = nil) {
        self.registry = registry
        self.policy = policy
        self.outbox = outbox
    }

    /// Answers check 15 for a row's POD: true when the meter answers now. Throws
    /// `RegistryError` for an outage (no attempt spent) or `ProbeNotAnswered`.
    public typealias Probe = (_ pod: String) throws -> Bool

    /// Tries `row` once more: `record.attempts` is raised by one and the record gets its new
    /// state, code and registry details. `productionPOD` overrides the alphabetical choice.
    public func attempt(_ row: ValidRow, record: inout RowRecord, context: AssociationContext,
                        productionPOD: String? = nil, now: Double, probe: Probe? = nil) throws {
        record.attempts += 1
        record.processedAt = now
        let pod = try registry.pod(row.pod)
        let device = try registry.device(row.sid)
        let podAssociation = try registry.association(pod: row.pod)
        let deviceAssociation = try registry.association(sid: row.sid)
        try fillRegistryFields(&record, pod: pod, device: device, podAssociation: podAssociation,
                               deviceAssociation: deviceAssociation, tenant: context.tenant)
        let verdict = RegistryChecks.evaluate(row: row, tenant: context.tenant, request: context.request, pod: pod, device: device,
                                              podAssociation: podAssociation, deviceAssociation: deviceAssociation,
                                              productionPODChoice: productionPOD)
        switch verdict {
        case .failure(let code):
            record.finish(code)
        case .success(let plan):
            if plan.alreadyDone {
                // This row's own association, found again after a crash: its production POD is
                // the one bound then, even if the registry's list changed since.
                record.productionPOD = podAssociation?.productionPOD ?? ""
                record.finish(.ok)
                return
            }
            record.productionPOD = plan.productionPOD ?? ""
            // The association's SCP script must be writable before the association exists: master
            // data with a control character (older imports took them) once made an association
            // whose script crashed every later run. Such a row is in error, and no attempt spent.
            let script = ScpScript(requestID: context.request ?? "", generatedAt: "", deviceType: plan.device.deviceType,
                                   sid: row.sid, nid: plan.device.nid, configurationType: row.configurationType,
                                   exchangePOD: row.pod, productionPOD: plan.productionPOD, matricola: record.matricola,
                                   eneltel: record.eneltel, gesis: record.gesis)
            if let key = script.unwritableKey {
                record.attempts -= 1
                record.finish(.registryDataInvalid)
                record.detail = key
                return
            }
            let reachable = try probe.map { try $0(row.pod) } ?? registry.probeReachability(pod: row.pod)
            guard reachable else {                                                              // 15
                if record.attempts >= policy.maxAttempts {
                    record.finish(.maxAttemptsReached)
                } else {
                    record.state = .waiting
                    record.code = .meterUnreachable
                    record.nextAttemptAt = now + policy.backoff.delay(afterAttempt: record.attempts, jitter: policy.jitter())
                }
                return
            }
            let association = Association(                                                      // 16
                pod: row.pod, sid: row.sid, nid: plan.device.nid, deviceType: plan.device.deviceType,
                configurationType: row.configurationType, productionPOD: plan.productionPOD,
                tenant: context.tenant, configurator: context.configurator, configuratorPerson: context.person,
                request: context.request, createdAt: now)
            try registry.createAssociation(association)
            try outbox?.enqueue(.associated, association, now: now)
            record.finish(.ok)
        }
    }

    /// The POD this row would probe (check 15) if it were tried now, or nil when an earlier
    /// check decides it: `attempt` on a copy, with a probe that only notes the POD. Reads only
    /// (nothing is created: the noted probe answers no), so probes can be planned outside the
    /// pass's transaction and run in parallel before it.
    public func podToProbe(_ row: ValidRow, record: RowRecord, context: AssociationContext,
                           productionPOD: String? = nil, now: Double) throws -> String? {
        var copy = record
        var asked: String?
        try attempt(row, record: &copy, context: context, productionPOD: productionPOD, now: now,
                    probe: { pod in asked = pod; return false })
        return asked
    }

    /// The registry's data esito.csv shows, from this attempt's lookups only: an earlier
    /// attempt's values go, since the POD or device may have changed hands meanwhile.
    ///
    /// Nothing of another SI is shown (the brief: fields of a device or POD that belongs to
    /// another SI stay empty in this SI's rows). A device belongs to another SI when that SI
    /// owns it (DEVICE_NOT_OWNED, or an earlier check failing first) or holds it in an
    /// association (DEVICE_ALREADY_ASSOCIATED after the device changed owner): NID and TIPO
    /// DISPOSITIVO stay empty. A POD belongs to another SI while it is bound in that SI's
    /// association, as exchange POD or as production POD: MATRICOLA, GESIS (and Eneltel) stay
    /// empty. POD PRODUZIONE is only ever this row's own choice, set on success. So a
    /// POD_ALREADY_ASSOCIATED row shows nothing of the other SI's association (its SID, NID,
    /// production POD, the meter's data), and a DEVICE_ALREADY_ASSOCIATED row nothing of the
    /// association holding the device: its POD and that POD's data are never read into the row.
    func fillRegistryFields(_ record: inout RowRecord, pod: PODRecord?, device: DeviceRecord?,
                            podAssociation: Association?, deviceAssociation: Association?, tenant: String) throws {
        record.nid = ""
        record.deviceType = ""
        record.productionPOD = ""
        record.matricola = ""
        record.eneltel = ""
        record.gesis = false
        if let device, device.owner == tenant, (deviceAssociation?.tenant ?? tenant) == tenant {
            record.nid = device.nid
            record.deviceType = device.deviceType
        }
        guard let pod else { return }
        var holder = podAssociation?.tenant
        // A production POD is never an association's own POD: it is held through its exchange
        // POD's Prosumer association (one lookup, and only for rows refused as POD_IS_PRODUCTION).
        if holder == nil && pod.meterType == .production {
            holder = try registry.association(productionPOD: pod.pod)?.tenant
        }
        if let holder, holder != tenant { return }
        record.matricola = pod.matricola
        record.eneltel = pod.eneltel
        record.gesis = pod.isGesis
    }
}

extension RowRecord {
    mutating func finish(_ code: RowCode) {
        self.code = code
        state = code == .ok ? .ok : .error
        nextAttemptAt = nil
    }
}
