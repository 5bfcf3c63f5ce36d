/// The configurator's given name and surname apart, as the portal's forms have them (Nome,
/// Cognome): the report filters on each, and the single form shows them.
///
/// Known for an SI account (`account add --given-name --surname`); empty when the person is not
/// an account: a login with no account, an operator's `submit`, a name typed with
/// `--configurator`, or an association older than migration 3 whose name matched no account.
public struct PersonName: Sendable, Equatable {
    /// Nome.
    public var givenName: String
    /// Cognome.
    public var surname: String

    public init(givenName: String, surname: String) {
        self.givenName = givenName
        self.surname = surname
    }

    public static let unknown = PersonName(givenName: "", surname: "")

    public var isKnown: Bool { !givenName.isEmpty || !surname.isEmpty }

    /// "Nome Cognome": what CONFIGURATORE shows.
    public var fullName: String { [givenName, surname].filter { !$0.isEmpty }.joined(separator: " ") }
}

/// Who asks for an association, and on behalf of which request.
public struct AssociationContext: Sendable {
    public var tenant: String
    /// The name CONFIGURATORE shows.
    public var configurator: String
    /// The same person's given name and surname apart, when known.
    public var person: PersonName
    /// The bulk request's id, or nil for a single association.
    public var request: String?

    public init(tenant: String, configurator: String, person: PersonName = .unknown, request: String?) {
        self.tenant = tenant
        self.configurator = configurator
        self.person = person
        self.request = request
    }
}
