/// A POD as the registry knows it.
public struct PODRecord: Sendable, Equatable {
    public enum MeterType: String, Sendable { case exchange = "M1", production = "M2" }

    public var pod: String
    public var eneltel: String
    public var matricola: String
    public var meterType: MeterType
    /// Set on production PODs: the exchange POD they belong to.
    public var exchangePOD: String?
    public var telemanaged: Bool
    public var eligible: Bool
    public var holderTaxCode: String
    /// The production PODs of an exchange POD, ascending alphabetical order.
    public var productionPODs: [String]

    public init(pod: String, eneltel: String, matricola: String, meterType: MeterType, exchangePOD: String?,
                telemanaged: Bool, eligible: Bool, holderTaxCode: String, productionPODs: [String]) {
        self.pod = pod
        self.eneltel = eneltel
        self.matricola = matricola
        self.meterType = meterType
        self.exchangePOD = exchangePOD
        self.telemanaged = telemanaged
        self.eligible = eligible
        self.holderTaxCode = holderTaxCode
        self.productionPODs = productionPODs.sorted()
    }

    /// GESIS: 2G three-phase semi-direct meters, readings need the K factor.
    public var isGesis: Bool { isGesisMatricola(matricola) }
}

/// A MOME or Smart Info device.
public struct DeviceRecord: Sendable, Equatable {
    public var sid: String
    public var nid: String
    public var deviceType: String
    /// The tenant (SI) that bought the device.
    public var owner: String

    public init(sid: String, nid: String, deviceType: String, owner: String) {
        self.sid = sid
        self.nid = nid
        self.deviceType = deviceType
        self.owner = owner
    }
}

/// An active POD ↔ device binding.
public struct Association: Sendable, Equatable {
    public var pod: String
    public var sid: String
    public var nid: String
    public var deviceType: String
    public var configurationType: ConfigurationType
    public var productionPOD: String?
    public var tenant: String
    /// The name of the person who made it (NOME CONFIGURATORE).
    public var configurator: String
    /// The same person's given name and surname apart, when known (the report's Nome and
    /// Cognome Configuratore filters).
    public var configuratorPerson: PersonName
    /// The bulk request that made it, or nil for a single association.
    public var request: String?
    public var createdAt: Double

    public init(pod: String, sid: String, nid: String, deviceType: String, configurationType: ConfigurationType,
                productionPOD: String?, tenant: String, configurator: String, configuratorPerson: PersonName = .unknown,
                request: String?, createdAt: Double) {
        self.pod = pod
        self.sid = sid
        self.nid = nid
        self.deviceType = deviceType
        self.configurationType = configurationType
        self.productionPOD = productionPOD
        self.tenant = tenant
        self.configurator = configurator
        self.configuratorPerson = configuratorPerson
        self.request = request
        self.createdAt = createdAt
    }
}

/// Checks 6–14 of the brief on what the registry said: pure, first failure wins.
/// Reachability (check 15) is probed only when these pass, since a probe has a cost.
public enum RegistryChecks {
    /// What an association would bind, once checks 6–14 pass.
    public struct Plan: Sendable, Equatable {
        public var pod: PODRecord
        public var device: DeviceRecord
        public var productionPOD: String?
        /// The association already exists and was made by this same request: this row's own
        /// earlier success, found again after a crash.
        public var alreadyDone: Bool
    }

    public static func evaluate(row: ValidRow, tenant: String, request: String?,
                                pod: PODRecord?, device: DeviceRecord?,
                                podAssociation: Association?, deviceAssociation: Association?,
                                productionPODChoice: String? = nil) -> Result<Plan, RowCode> {
        guard let pod else { return .failure(.podNotFound) }                                   // 6
        if pod.meterType == .production { return .failure(.podIsProduction) }                 // 7
        if !pod.telemanaged { return .failure(.podNotTelemanaged) }                            // 8
        if !pod.eligible { return .failure(.meterNotEligible) }                                // 9
        guard let device else { return .failure(.deviceNotFound) }                             // 10
        if device.owner != tenant { return .failure(.deviceNotOwned) }                         // 11
        let ownEarlier = { (a: Association) in
            request != nil && a.request == request && a.pod == row.pod && a.sid == row.sid
        }
        if let a = podAssociation, !ownEarlier(a) { return .failure(.podAlreadyAssociated) }   // 12
        if let a = deviceAssociation, !ownEarlier(a) { return .failure(.deviceAlreadyAssociated) } // 13
        var production: String? = nil
        if row.configurationType == .prosumer {                                                // 14
            guard let first = pod.productionPODs.first else { return .failure(.noProductionPOD) }
            production = productionPODChoice ?? first
        }
        let done = podAssociation.map(ownEarlier) ?? false
        return .success(Plan(pod: pod, device: device, productionPOD: production, alreadyDone: done))
    }
}
