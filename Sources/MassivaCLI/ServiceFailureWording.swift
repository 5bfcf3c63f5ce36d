import MassivaServices

/// How the command line reports a service's failure: its exit status, and its message in the
/// command line's terms (the options it names, where to look next).
extension ServiceFailure {
    /// The exit status of a service command that failed so; see `exitStatusText`.
    public var exitStatus: Int32 {
        switch kind {
        case .notWritten: return 1
        case .badInput: return 2
        case .podNotFound: return 3
        case .supplyNotUsable: return 4
        case .unavailable: return 5
        case .internalError: return 6
        case .generic: return 7
        case .refused: return 8
        }
    }

    /// What `massiva <command>:` says: the service's message, or for bad input the command line
    /// names itself, its own words; then the detail.
    public var commandLineMessage: String {
        guard let input else { return description }
        let text = input.commandLineMessage
        return detail.isEmpty ? text : "\(text) (\(detail))"
    }

    /// The exit statuses of the services, for `--help`.
    static let exitStatusText = """
        exit status:
          0  done
          1  other failure (e.g. the SCP file could not be written: then nothing was associated)
          2  usage or bad input: unknown tenant or account, malformed POD/SID/NID, a SID and a NID of different devices,
             bad date, production POD not of the exchange POD
          3  POD inserito inesistente
          4  Siamo spiacenti ma al momento la fornitura selezionata non consente l'utilizzo del dispositivo
             MOME/Smart Info (not telemanaged, not eligible, or unreachable now: try again later)
          5  Servizio non disponibile contattare l'assistenza (registry unavailable)
          6  Errore Interno contattare l'assistenza
          7  Errore Generico contattare l'assistenza
          8  refused: an association check failed (device unknown or of another SI, already associated,
             production POD given as exchange POD, ...), tenant disabled, or nothing of this tenant to dissociate or download
        """
}

extension InvalidInput {
    /// The input at fault, named by the options that give it.
    var commandLineMessage: String {
        switch self {
        case .unknownTenant(let id): return "unknown tenant \"\(id)\" (see massiva tenant list)"
        case .noDevice: return "give the device: --sid SID, --nid NID, or both"
        case .productionPODNotProsumer: return "--production-pod is only for a Prosumer configuration"
        case .noReportFilter:
            return "valorizzare almeno un criterio di filtro (--pod, --sid, --nid, --configurator, --given-name, "
                + "--surname, --from, --to), o --all per tutte le associazioni"
        case .notADate(let bound, let text):
            return "--\(bound.rawValue): \"\(text)\" is not a date: expected YYYY-MM-DD (e.g. 2025-03-31)"
        case .datesReversed(let from, let to): return "--from \(from) is after --to \(to)"
        }
    }
}
