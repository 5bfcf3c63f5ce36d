import MassivaConfig
import MassivaCSV

extension ResultsEncoding {
    /// The CSV writer's encoding for this `results_encoding` (MassivaConfig knows no CSV).
    public var csv: CSVOutputEncoding {
        switch self {
        case .utf8BOM: return .utf8BOM
        case .utf8: return .utf8
        case .windows1252: return .windows1252
        }
    }
}
