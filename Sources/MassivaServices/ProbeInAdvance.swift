import MassivaProcessing
import MassivaRegistry
import MassivaStore

/// Check 15 through `probe_command`, asked before the service's transaction, so the database's
/// write lock is not held while the head-end answers.
///
/// `plan` reads (nothing written) which POD the service will probe, and for which SID; another
/// POD (the registry changed meanwhile) is asked when check 15 comes to it. A plan that fails
/// only loses the head start: the service's own checks meet the same fault again, in their
/// order, inside its audited transaction.
struct ProbeInAdvance {
    let probe: CommandProbe?
    let store: StateStore

    /// The probe check 15 uses: nil without `probe_command` (the registry's own probe), or for
    /// an unknown or disabled tenant (which the service refuses before check 15). A failure to
    /// read the tenant is kept and thrown where check 15 asks for the probe, inside the
    /// transaction: it must not read as "no `probe_command`" and quietly ask the registry instead.
    func prepare(tenant: String, plan: () throws -> (pod: String?, sid: String)) -> Result<RowProcessor.Probe?, any Error> {
        guard let probe else { return .success(nil) }
        do {
            guard try store.tenant(tenant)?.enabled == true else { return .success(nil) }
        } catch {
            return .failure(error)
        }
        let planned = try? store.readTransaction(plan)
        let sid = planned?.sid ?? ""
        let asked = planned?.pod.map { ($0, probe.ask(ProbeTarget(pod: $0, tenant: tenant, sid: sid, request: ""))) }
        let ask = probe.synchronous(tenant: tenant, sid: sid, request: "")
        return .success({ pod in
            if let (plannedPOD, answer) = asked, plannedPOD == pod { return try CommandProbe.decide(answer, pod: pod) }
            return try ask(pod)
        })
    }
}
