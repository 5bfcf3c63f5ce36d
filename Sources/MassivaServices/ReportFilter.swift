/// The report's filters (the portal's Report associazioni form).
public struct ReportFilter: Sendable {
    /// nil: every tenant (operator).
    public var tenant: String?
    public var pod: String?
    public var sid: String?
    public var nid: String?
    /// Case-insensitive substring of the configurator's name.
    public var configurator: String?
    /// Nome Configuratore, Cognome Configuratore: case-insensitive substrings of the parts.
    public var givenName: String?
    public var surname: String?
    public var dates: DateRange
    /// No filter, on purpose: every association of the tenant (or of all).
    public var all: Bool

    public init(tenant: String?, pod: String? = nil, sid: String? = nil, nid: String? = nil, configurator: String? = nil,
                givenName: String? = nil, surname: String? = nil, dates: DateRange = DateRange(), all: Bool = false) {
        self.tenant = tenant
        self.pod = pod
        self.sid = sid
        self.nid = nid
        self.configurator = configurator
        self.givenName = givenName
        self.surname = surname
        self.dates = dates
        self.all = all
    }

    /// The filters given, for the audit trail.
    var summary: String {
        let given: [(String, String?)] = [("pod", pod), ("sid", sid), ("nid", nid), ("configurator", configurator),
                                          ("given-name", givenName), ("surname", surname),
                                          ("from", dates.from.map { "\($0)" }), ("to", dates.to.map { "\($0)" })]
        let parts = given.compactMap { name, value in value.map { "\(name)=\($0)" } }
        return parts.isEmpty ? "all" : parts.joined(separator: " ")
    }

    /// The manual's note: at least one filter (the tenant is not one), else an explicit "all".
    public var hasCriterion: Bool {
        [pod, sid, nid, configurator, givenName, surname].contains { $0 != nil } || dates.from != nil || dates.to != nil
    }
}
