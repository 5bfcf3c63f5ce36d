import MassivaStore

/// The audit trail read back (GDPR): one tenant's entries or everyone's, of a POD, in a range of
/// days. Reading it is not itself recorded.
struct AuditQuery {
    let store: StateStore
    let audit: AuditTrail

    func run(tenant: String?, pod: String?, dates: DateRange) throws -> [AuditEntry] {
        if let tenant { _ = try ServiceInput.tenant(tenant, enabled: false, in: store) }
        let bounds = dates.seconds
        return try audit.entries(AuditTrail.Filter(tenant: tenant, pod: pod.map(ServiceInput.normalize), from: bounds.from, to: bounds.to))
    }
}
