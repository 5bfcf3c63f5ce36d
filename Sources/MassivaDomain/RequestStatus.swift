/// The request lifecycle: queued → processing → done, queued → cancelled, or → rejected.
public enum RequestStatus: String, Sendable, CaseIterable {
    case queued, processing, done, cancelled, rejected

    /// Whether the request can change no more.
    public var isFinal: Bool { self == .done || self == .cancelled || self == .rejected }
}

/// ESITO DELLA RICHIESTA, the Italian label the portal shows for a request.
public enum RequestOutcome {
    public static func label(status: RequestStatus, rowsFailed: Int, maxAttemptsHit: Bool, reason: String?) -> String {
        switch status {
        case .queued: return "In attesa"
        case .processing: return "In lavorazione"
        case .cancelled: return "Annullato"
        case .rejected: return "Rifiutato: " + (reason ?? "file non utilizzabile")
        case .done:
            if maxAttemptsHit { return "Lavorato con errori: raggiunto massimo numero di tentativi" }
            return rowsFailed == 0 ? "Lavorato" : "Lavorato con errori"
        }
    }
}
