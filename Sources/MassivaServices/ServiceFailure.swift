import MassivaDomain
import MassivaRegistry

/// Why a service refused or failed, with the portal's Italian message where it has one. How a
/// front end reports each kind (the command line's exit statuses) is the front end's business.
///
/// | kind | message |
/// |---|---|
/// | notWritten | a file the service had to write (the SCP) could not be written: nothing was changed |
/// | badInput | what is wrong with the input (unknown tenant, malformed POD/SID, bad date, …) |
/// | podNotFound | POD inserito inesistente |
/// | supplyNotUsable | Siamo spiacenti ma al momento la fornitura selezionata non consente l'utilizzo del dispositivo MOME/Smart Info (or: POD inserito non telegestibile) |
/// | unavailable | Servizio non disponibile contattare l'assistenza |
/// | internalError | Errore Interno contattare l'assistenza |
/// | generic | Errore Generico contattare l'assistenza |
/// | refused | an association check failed (device of another SI, already associated, …), a disabled tenant, nothing to dissociate |
public struct ServiceFailure: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        case notWritten, badInput, podNotFound, supplyNotUsable, unavailable, internalError, generic, refused
    }

    public var kind: Kind
    /// What the user is told.
    public var message: String
    /// The stable code recorded in the audit trail (a `RowCode` raw value or a service code).
    public var code: String
    /// Technical detail for the operator and the audit trail (the underlying error), may be empty.
    public var detail: String
    /// The input at fault, when a front end words it in its own terms (see `InvalidInput`).
    public var input: InvalidInput?

    public init(_ kind: Kind, _ message: String, code: String, detail: String = "") {
        self.kind = kind
        self.message = message
        self.code = code
        self.detail = detail
    }

    public var description: String { detail.isEmpty ? message : "\(message) (\(detail))" }

    public static let notUsableMessage =
        "Siamo spiacenti ma al momento la fornitura selezionata non consente l'utilizzo del dispositivo MOME/Smart Info"
    public static let unavailableMessage = "Servizio non disponibile contattare l'assistenza"
    public static let internalMessage = "Errore Interno contattare l'assistenza"
    public static let genericMessage = "Errore Generico contattare l'assistenza"

    public static func badInput(_ message: String, code: String = "INVALID_INPUT") -> ServiceFailure {
        ServiceFailure(.badInput, message, code: code)
    }

    /// Bad input that a front end words itself.
    public static func invalid(_ input: InvalidInput) -> ServiceFailure {
        var failure = ServiceFailure(.badInput, input.message, code: input.code)
        failure.input = input
        return failure
    }

    public static let podNotFound = ServiceFailure(.podNotFound, RowCode.podNotFound.description, code: RowCode.podNotFound.rawValue)

    public static func notUsable(code: String) -> ServiceFailure {
        ServiceFailure(.supplyNotUsable, notUsableMessage, code: code)
    }

    public static func internalError(_ detail: String) -> ServiceFailure {
        ServiceFailure(.internalError, internalMessage, code: "INTERNAL_ERROR", detail: detail)
    }

    /// Any error thrown while talking to the registry or the database, as the portal words it:
    /// `RegistryError.unavailable` → Servizio non disponibile, `.internalError` → Errore Interno,
    /// anything else (a database error, a busy database) → Errore Generico.
    public static func from(_ error: any Error) -> ServiceFailure {
        if let failure = error as? ServiceFailure { return failure }
        if let registry = error as? RegistryError {
            switch registry {
            case .unavailable(let m): return ServiceFailure(.unavailable, unavailableMessage, code: "SERVICE_UNAVAILABLE", detail: m)
            case .internalError(let m): return internalError(m)
            }
        }
        return ServiceFailure(.generic, genericMessage, code: "GENERIC_ERROR", detail: "\(error)")
    }

    /// The failure of an association attempt that ended with `code` (not OK).
    public static func fromRow(_ code: RowCode) -> ServiceFailure {
        switch code {
        case .podNotFound: return .podNotFound
        case .podNotTelemanaged: return ServiceFailure(.supplyNotUsable, code.description, code: code.rawValue)
        case .meterNotEligible, .meterUnreachable, .maxAttemptsReached:
            return ServiceFailure(.supplyNotUsable, notUsableMessage, code: code == .meterNotEligible ? code.rawValue : RowCode.meterUnreachable.rawValue,
                                  detail: code == .meterNotEligible ? "" : "misuratore non raggiungibile ora: riprovare più tardi")
        case .registryDataInvalid: return ServiceFailure(.internalError, internalMessage, code: code.rawValue, detail: code.description)
        case .invalidRow, .invalidPOD, .nidNotAllowed, .invalidSID, .invalidConfigType, .duplicatePOD, .duplicateSID:
            return ServiceFailure(.badInput, code.description, code: code.rawValue)
        default:
            return ServiceFailure(.refused, code.description, code: code.rawValue)
        }
    }
}
