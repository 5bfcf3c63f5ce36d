import MassivaStore

/// A service's change and its audit-trail entry, committed in one transaction.
///
/// Every search, association, dissociation, SCP download and report is recorded, refusals and
/// failures included. The body returns its value or a refusal: either way its changes (an
/// association, probe counts) commit together with the entry saying so, and a refusal is thrown
/// after the commit. A thrown error (the registry or the database failed) rolls everything
/// back; the failure is then recorded in a transaction of its own and thrown as a
/// `ServiceFailure`.
struct AuditedTransaction {
    let store: StateStore
    let audit: AuditTrail
    let clock: () -> Double

    /// Runs `body` as `action` of `configurator` for `tenant` on `pod` (and `sid`); `detail`
    /// describes a success in the entry.
    func run<T>(_ action: AuditEntry.Action, tenant: String, configurator: String, pod: String, sid: String = "",
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
            var failure = ServiceFailure.from(error)
            do {
                try store.transaction { try audit.record(entry(failure.code, failure.description)) }
            } catch {
                // The failure is what the user must hear about; that the trail lacks its entry
                // (the database itself failing, most likely) is said with it, not dropped.
                failure.detail += (failure.detail.isEmpty ? "" : "; ") + "not recorded in the audit trail: \(error)"
            }
            throw failure
        }
        return try result.get()
    }
}
