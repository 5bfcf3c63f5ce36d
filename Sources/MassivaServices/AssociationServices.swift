import MassivaDomain
import MassivaProcessing
import MassivaRegistry
import MassivaResults
import MassivaStore
import MassivaSystem

/// The portal's services besides the bulk one: POD search, single association and dissociation,
/// the SCP file of an association, association report, audit trail. Testable without the
/// command line: each returns a typed result or throws a `ServiceFailure`, and a front end
/// words them.
///
/// Each service is its own type (`PODSearch`, `SingleAssociation`, `SingleDissociation`,
/// `ConfigurationFileDownload`, `AssociationReport`, `AuditQuery`); this front holds what they
/// share and builds each for its call. Every change commits with its audit entry in one
/// `AuditedTransaction`, refusals and failures recorded too.
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
                clock: @escaping () -> Double, probe: CommandProbe? = nil, outbox: Outbox? = nil,
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

    // MARK: The services

    /// Ricerca POD (`PODSearch`).
    public func search(pod: String, tenant: String, configurator: String) throws -> SearchResult {
        try PODSearch(store: store, registry: registry, transaction: transaction, probe: probeInAdvance)
            .run(pod: pod, tenant: tenant, configurator: configurator)
    }

    /// Associazione singola and its SCP file (`SingleAssociation`).
    public func associate(_ request: AssociateRequest) throws -> AssociateResult {
        try SingleAssociation(store: store, registry: registry, rows: rows, transaction: transaction, probe: probeInAdvance,
                              after: afterChange, clock: clock, caller: caller).run(request)
    }

    /// Scarica file di configurazione: the SCP file of an existing association, written into
    /// `directory` again (`ConfigurationFileDownload`).
    public func scp(pod: String, tenant: String, configurator: String, directory: String) throws -> ScpDownload {
        try ConfigurationFileDownload(store: store, registry: registry, transaction: transaction, caller: caller)
            .run(pod: pod, tenant: tenant, configurator: configurator, directory: directory)
    }

    /// Removes the tenant's association of `pod`, the exchange POD (`SingleDissociation`).
    public func dissociate(pod: String, tenant: String, configurator: String) throws -> Association {
        try SingleDissociation(store: store, registry: registry, transaction: transaction, outbox: outbox, after: afterChange,
                               clock: clock)
            .run(pod: pod, tenant: tenant, configurator: configurator)
    }

    /// Report associazioni (`AssociationReport`).
    public func report(_ filter: ReportFilter, configurator: String = UserName.current) throws -> [AssociationListRow] {
        try AssociationReport(store: store, registry: registry, transaction: transaction).run(filter, configurator: configurator)
    }

    /// The audit trail (`AuditQuery`).
    public func auditEntries(tenant: String?, pod: String?, dates: DateRange) throws -> [AuditEntry] {
        try AuditQuery(store: store, audit: audit).run(tenant: tenant, pod: pod, dates: dates)
    }

    // MARK: What the services share

    var transaction: AuditedTransaction { AuditedTransaction(store: store, audit: audit, clock: clock) }

    var probeInAdvance: ProbeInAdvance { ProbeInAdvance(probe: probe, store: store) }

    var afterChange: AfterAssociationChange {
        AfterAssociationChange(results: results, registry: registry, outbox: outbox, onEvent: onEvent)
    }
}
