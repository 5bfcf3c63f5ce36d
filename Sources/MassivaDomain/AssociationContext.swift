/// Who asks for an association, and on behalf of which request.
public struct AssociationContext: Sendable {
    public var tenant: String
    public var configurator: String
    /// The bulk request's id, or nil for a single association.
    public var request: String?

    public init(tenant: String, configurator: String, request: String?) {
        self.tenant = tenant
        self.configurator = configurator
        self.request = request
    }
}
