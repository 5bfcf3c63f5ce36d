/// The outcome code of one row: the brief's table, in check order.
public enum RowCode: String, Sendable, CaseIterable {
    case invalidRow = "INVALID_ROW"
    case invalidPOD = "INVALID_POD"
    case nidNotAllowed = "NID_NOT_ALLOWED"
    case invalidSID = "INVALID_SID"
    case invalidConfigType = "INVALID_CONFIG_TYPE"
    case duplicatePOD = "DUPLICATE_POD"
    case duplicateSID = "DUPLICATE_SID"
    case podNotFound = "POD_NOT_FOUND"
    case podIsProduction = "POD_IS_PRODUCTION"
    case podNotTelemanaged = "POD_NOT_TELEMANAGED"
    case meterNotEligible = "METER_NOT_ELIGIBLE"
    case deviceNotFound = "DEVICE_NOT_FOUND"
    case deviceNotOwned = "DEVICE_NOT_OWNED"
    case podAlreadyAssociated = "POD_ALREADY_ASSOCIATED"
    case deviceAlreadyAssociated = "DEVICE_ALREADY_ASSOCIATED"
    case noProductionPOD = "NO_PRODUCTION_POD"
    /// Transient: the meter did not answer; the row waits for a retry.
    case meterUnreachable = "METER_UNREACHABLE"
    case maxAttemptsReached = "MAX_ATTEMPTS_REACHED"
    /// The registry's data for this POD or device cannot go into an SCP script (a control
    /// character in a field): no association is made, the row is in error, the rest goes on.
    case registryDataInvalid = "REGISTRY_DATA_INVALID"
    case ok = "OK"

    /// The codes of checks 1–4: a row refused by one of them may have no valid configuration
    /// type; every other row has one.
    public static let refusedBeforeConfigurationCheck: Set<RowCode> = [.invalidRow, .invalidPOD, .nidNotAllowed, .invalidSID,
                                                                        .invalidConfigType]

    /// The portal's wording (DESCRIZIONE), in Italian.
    public var description: String {
        switch self {
        case .invalidRow: return "Riga non valida: attese 3 colonne (POD; Identificativo MOME/Smart INFO; Tipo Configurazione)"
        case .invalidPOD: return "POD non valido: atteso IT + 3 cifre + E + 8 cifre, al massimo 15 caratteri"
        case .nidNotAllowed: return "Inserito il NID: indicare l'identificativo MOME/Smart Info (SID) di 17 caratteri"
        case .invalidSID: return "Identificativo MOME/Smart Info non valido: attesi 17 caratteri alfanumerici"
        case .invalidConfigType: return "Tipo Configurazione non valido: attesi Standard o Prosumer"
        case .duplicatePOD: return "POD duplicato nel file"
        case .duplicateSID: return "Identificativo MOME/Smart Info duplicato nel file"
        case .podNotFound: return "POD inserito inesistente"
        case .podIsProduction: return "POD inserito di produzione: indicare il POD di scambio"
        case .podNotTelemanaged: return "POD inserito non telegestibile"
        case .meterNotEligible: return "Siamo spiacenti ma al momento la fornitura selezionata non consente l'utilizzo del dispositivo MOME/Smart Info"
        case .deviceNotFound: return "Identificativo MOME/Smart Info inesistente"
        case .deviceNotOwned: return "Dispositivo non appartenente alla ditta configuratrice"
        case .podAlreadyAssociated: return "POD inserito già associato"
        case .deviceAlreadyAssociated: return "Dispositivo già associato ad altro POD"
        case .noProductionPOD: return "Configurazione Prosumer non possibile: il POD non ha POD di produzione"
        case .meterUnreachable: return "Misuratore non raggiungibile: nuovo tentativo programmato"
        case .maxAttemptsReached: return "Raggiunto massimo numero di tentativi: misuratore non raggiungibile"
        case .registryDataInvalid: return "Errore Interno contattare l'assistenza: dati anagrafici del POD o del dispositivo non validi"
        case .ok: return "Associazione effettuata"
        }
    }

    /// ESITO of the row as the portal shows it.
    public var esito: String {
        switch self {
        case .ok: return "Elaborato"
        case .meterUnreachable: return "In attesa"
        default: return "In errore"
        }
    }
}

extension RowCode: Error {}
