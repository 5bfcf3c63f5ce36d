import MassivaDomain

/// One request as the state database holds it.
public struct RequestRecord: Sendable, Equatable {
    public var id: RequestID
    public var tenant: String
    public var fileName: String
    public var configurator: String
    public var status: RequestStatus
    public var reason: String?
    /// The answer to a `.cancel` drop file, or to `massiva cancel`, when it could not cancel.
    public var note: String?
    public var rowsTotal: Int
    public var rowsProcessed: Int
    public var rowsFailed: Int
    public var maxAttemptsHit: Bool
    public var submittedAt: Double
    public var completedAt: Double?
    /// Earliest time a waiting row of this request is due again.
    public var nextDueAt: Double?
    public var stateVersion: Int
    public var resultsVersion: Int
    /// Whether its folder is in `results/` (see `ResultsState`).
    public var resultsState: ResultsState = .present

    /// Where a request's result folder stands (retention, `show --restore`).
    public enum ResultsState: String, Sendable {
        /// In `results/` (or about to be: its files lag behind) and listed in richieste.csv.
        case present
        /// Written back on request: listed again once its folder is written.
        case restoring
        /// Past `result_retention`: no longer listed; its folder is still to be removed.
        case retiring
        /// Out of `results/`; its data stays in the database.
        case removed
    }
    /// The configurator's given name and surname apart, when the uploader is an SI account.
    public var configuratorPerson: PersonName = .unknown

    public var outcomeLabel: String {
        RequestOutcome.label(status: status, rowsFailed: rowsFailed, maxAttemptsHit: maxAttemptsHit, reason: reason)
    }
}
