/// *Tipo Configurazione*: how the device is configured for the supply.
public enum ConfigurationType: String, Sendable, CaseIterable {
    case standard = "Standard"
    case prosumer = "Prosumer"

    /// Parses the case-insensitive value of a bulk row or a command-line option.
    public init?(parsing value: String) {
        switch value.uppercased() {
        case "STANDARD": self = .standard
        case "PROSUMER": self = .prosumer
        default: return nil
        }
    }

    /// The SCP/1 `configuration_model` value.
    public var model: String { self == .standard ? "0x01" : "0x02" }
}
