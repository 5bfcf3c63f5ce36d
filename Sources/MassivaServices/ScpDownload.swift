import MassivaDomain
import MassivaRegistry

/// What the download of a configuration file (`AssociationServices.scp`) wrote.
public struct ScpDownload: Sendable {
    public var association: Association
    public var script: ScpScript
    public var path: String
    /// The tenant's ragione sociale (the form's System Integrator).
    public var tenantName: String
}
