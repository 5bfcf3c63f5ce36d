import MassivaDomain
import MassivaRegistry
import MassivaStore

/// What a single association made.
public struct AssociateResult: Sendable {
    /// The `request` line of the SCP script of a single association.
    public static let scpRequestLabel = "ASSOCIAZIONE-SINGOLA"

    public var association: Association
    /// The outcome as a bulk row would show it (matricola, Eneltel, GESIS, NID, …).
    public var record: RowRecord
    public var script: ScpScript
    /// Where the SCP file was written (before the association committed).
    public var scpPath: String
    /// The tenant's ragione sociale (the form's System Integrator).
    public var tenantName: String
    public var warnings: [String] = []
}
