import MassivaDomain

/// What the single association form asks for.
public struct AssociateRequest: Sendable {
    public var tenant: String
    public var pod: String
    /// The device's SID, its NID, or both (then the same device).
    public var sid: String?
    public var nid: String?
    /// Tipo Dispositivo (`MOME`, `Smart Info`), when given: checked against the device.
    public var deviceType: String?
    /// `Standard` or `Prosumer`, any case.
    public var configurationType: String
    /// Prosumer only: the production POD to bind, default the first alphabetically.
    public var productionPOD: String?
    /// NOME CONFIGURATORE.
    public var configurator: String
    /// The same person's given name and surname, when the configurator is an SI account.
    public var person: PersonName
    /// Where `<SID>_<POD>.scp` is written.
    public var scpDirectory: String

    public init(tenant: String, pod: String, sid: String?, nid: String? = nil, deviceType: String? = nil, configurationType: String,
                productionPOD: String? = nil, configurator: String, person: PersonName = .unknown, scpDirectory: String) {
        self.tenant = tenant
        self.pod = pod
        self.sid = sid
        self.nid = nid
        self.deviceType = deviceType
        self.configurationType = configurationType
        self.productionPOD = productionPOD
        self.configurator = configurator
        self.person = person
        self.scpDirectory = scpDirectory
    }
}
