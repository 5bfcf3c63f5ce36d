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

    public init(registry: any Registry, policy: ProcessingPolicy) {
        self.registry = registry
        self.policy = policy
    }

    /// Tries `row` once more: `record.attempts` is raised by one and the record gets its new
    /// state, code and registry details. `productionPOD` overrides the alphabetical choice.
    public func attempt(_ row: ValidRow, record: inout RowRecord, context: AssociationContext,
                        productionPOD: String? = nil, now: Double) throws {
        record.attempts += 1
        record.processedAt = now
        let pod = try registry.pod(row.pod)
        let device = try registry.device(row.sid)
        if let pod {
            record.matricola = pod.matricola
            record.eneltel = pod.eneltel
            record.gesis = pod.isGesis
        }
        if let device {
            record.nid = device.nid
            record.deviceType = device.deviceType
        }
        let podAssociation = try registry.association(pod: row.pod)
        let deviceAssociation = try registry.association(sid: row.sid)
        let verdict = RegistryChecks.evaluate(row: row, tenant: context.tenant, request: context.request, pod: pod, device: device,
                                              podAssociation: podAssociation, deviceAssociation: deviceAssociation,
                                              productionPODChoice: productionPOD)
        switch verdict {
        case .failure(let code):
            record.finish(code)
        case .success(let plan):
            record.productionPOD = plan.productionPOD ?? ""
            if plan.alreadyDone {
                record.finish(.ok)
                return
            }
            guard try registry.probeReachability(pod: row.pod) else {                          // 15
                if record.attempts >= policy.maxAttempts {
                    record.finish(.maxAttemptsReached)
                } else {
                    record.state = .waiting
                    record.code = .meterUnreachable
                    record.nextAttemptAt = now + policy.backoff.delay(afterAttempt: record.attempts, jitter: policy.jitter())
                }
                return
            }
            try registry.createAssociation(Association(                                         // 16
                pod: row.pod, sid: row.sid, nid: plan.device.nid, deviceType: plan.device.deviceType,
                configurationType: row.configurationType, productionPOD: plan.productionPOD,
                tenant: context.tenant, configurator: context.configurator, request: context.request, createdAt: now))
            record.finish(.ok)
        }
    }
}

extension RowRecord {
    mutating func finish(_ code: RowCode) {
        self.code = code
        state = code == .ok ? .ok : .error
        nextAttemptAt = nil
    }
}
