/// A System Integrator: one folder of the spool, one *ditta configuratrice*.
public struct Tenant: Sendable, Equatable {
    public var id: String
    public var name: String
    public var enabled: Bool
    public var createdAt: Double
}
