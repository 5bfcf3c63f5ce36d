import MassivaRegistry
import MassivaResults
import MassivaStore

/// What follows a committed association or dissociation: associazioni.csv rewritten, and the
/// daemon woken when the change put an event in the outbox (its courier delivers it).
struct AfterAssociationChange {
    /// Nil: associazioni.csv is left to the daemon.
    let results: ResultWriter?
    let registry: any Registry
    let outbox: Outbox?
    let onEvent: () -> Void

    /// Runs the follow-up; what could not be done now (the daemon retries it), as warnings.
    func run() -> [String] {
        var warnings: [String] = []
        if let results {
            do { try results.refreshAssociationLists(from: registry) } catch {
                warnings.append("associazioni.csv not refreshed now (the daemon retries): \(error)")
            }
        }
        if outbox != nil { onEvent() }
        return warnings
    }
}
