import MassivaDomain

/// One data row of a request and where it stands.
public struct RowRecord: Sendable, Equatable {
    public enum State: String, Sendable { case waiting, ok, error }

    public var position: Int
    public var line: Int
    public var pod: String
    public var sid: String
    /// TIPO CONFIGURAZIONE as esito.csv shows it: the canonical type, or the uploaded text of a
    /// row refused by checks 1–4.
    public var configuration: String
    public var nid: String = ""
    public var deviceType: String = ""
    public var productionPOD: String = ""
    public var matricola: String = ""
    public var eneltel: String = ""
    public var gesis: Bool = false
    public var state: State
    public var code: RowCode
    public var detail: String?
    public var attempts: Int = 0
    public var nextAttemptAt: Double?
    public var processedAt: Double?

    public init(position: Int, line: Int, pod: String, sid: String, configuration: String, state: State, code: RowCode) {
        self.position = position
        self.line = line
        self.pod = pod
        self.sid = sid
        self.configuration = configuration
        self.state = state
        self.code = code
    }

    /// The configuration type; nil only for a row refused by checks 1–4 (the store refuses to
    /// decode any other row without one).
    public var configurationType: ConfigurationType? { ConfigurationType(rawValue: configuration) }

    /// DESCRIZIONE: the code's Italian wording, with the detail when there is one.
    public var description: String {
        detail.map { "\(code.description) (\($0))" } ?? code.description
    }
}
