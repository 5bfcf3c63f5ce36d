import MassivaDomain

/// One line of richieste.csv: what `eachListedRequest` reads (from the `requests_list` index alone).
public struct RequestListEntry: Sendable, Equatable {
    public var id: RequestID
    public var fileName: String
    public var submittedAt: Double
    public var completedAt: Double?
    public var rowsProcessed: Int
    public var rowsTotal: Int
    public var rowsFailed: Int
    public var status: RequestStatus
    public var maxAttemptsHit: Bool
    public var reason: String?

    public var outcomeLabel: String {
        RequestOutcome.label(status: status, rowsFailed: rowsFailed, maxAttemptsHit: maxAttemptsHit, reason: reason)
    }
}
