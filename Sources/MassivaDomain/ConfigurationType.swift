/// *Tipo Configurazione*: how the device is configured for the supply.
public enum ConfigurationType: String, Sendable, CaseIterable {
    case standard = "Standard"
    case prosumer = "Prosumer"

    /// Parses the case-insensitive value of a bulk row or a command-line option. Only ASCII
    /// letters fold (`asciiUppercased`), and the bytes are compared, not the characters: String
    /// `==` treats canonically equivalent text as equal (the Kelvin sign U+212A is `K`), and
    /// nothing but the eight ASCII letters may spell a type.
    public init?(parsing value: String) {
        let folded = value.asciiUppercased().utf8
        if folded.elementsEqual("STANDARD".utf8) { self = .standard }
        else if folded.elementsEqual("PROSUMER".utf8) { self = .prosumer }
        else { return nil }
    }

    /// The SCP/1 `configuration_model` value.
    public var model: String { self == .standard ? "0x01" : "0x02" }
}
