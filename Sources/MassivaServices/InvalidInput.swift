import MassivaSystem

/// Input a service found missing or wrong where a front end names the part of the request in its
/// own terms (the command line names its options): the failure carries what was wrong, each
/// front end words it. The audit trail keeps the neutral `message`.
public enum InvalidInput: Sendable, Equatable {
    /// No such tenant.
    case unknownTenant(String)
    /// Neither the device's SID nor its NID.
    case noDevice
    /// A production POD given for a configuration that is not Prosumer.
    case productionPODNotProsumer
    /// A report with no filter and without asking for every association.
    case noReportFilter
    /// One end of a date range is not a `YYYY-MM-DD` day.
    case notADate(DateRange.Bound, String)
    /// A date range that ends before it starts.
    case datesReversed(from: CalendarDay, to: CalendarDay)

    /// The stable code recorded in the audit trail.
    public var code: String {
        switch self {
        case .unknownTenant: return "UNKNOWN_TENANT"
        case .noDevice: return "NO_DEVICE"
        case .productionPODNotProsumer: return "PRODUCTION_POD_NOT_ALLOWED"
        case .noReportFilter: return "NO_FILTER"
        case .notADate, .datesReversed: return "INVALID_DATE"
        }
    }

    /// What is wrong, without naming any front end's fields.
    public var message: String {
        switch self {
        case .unknownTenant(let id): return "unknown tenant \"\(id)\""
        case .noDevice: return "give the device: its SID, its NID, or both"
        case .productionPODNotProsumer: return "a production POD is only for a Prosumer configuration"
        case .noReportFilter: return "valorizzare almeno un criterio di filtro, o chiedere tutte le associazioni"
        case .notADate(let bound, let text):
            return "\(bound.rawValue) date: \"\(text)\" is not a date: expected YYYY-MM-DD (e.g. 2025-03-31)"
        case .datesReversed(let from, let to): return "the range from \(from) ends before it, on \(to)"
        }
    }
}
