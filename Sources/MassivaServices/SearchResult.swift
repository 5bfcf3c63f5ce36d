import MassivaDomain
import MassivaRegistry

/// One line of a search result.
public struct SearchLine: Sendable, Equatable {
    public var pod: String
    public var meterType: PODRecord.MeterType
    public var maskedTaxCode: String
    /// Associated by anyone (another SI's association shows as associated, without details).
    public var associated: Bool
    /// The SID and configuration of the searching tenant's own association; nil otherwise.
    public var sid: String?
    public var configurationType: ConfigurationType?
    public var matricola: String
    public var eneltel: String
    public var gesis: Bool

    public var associationLabel: String { associated ? "ASSOCIATO" : "NON ASSOCIATO" }
}

public struct SearchResult: Sendable, Equatable {
    /// The POD searched (normalized).
    public var searched: String
    /// The exchange POD first, then its production PODs in alphabetical order.
    public var lines: [SearchLine]
}
