/// A row that passed checks 1–5: well formed and not a duplicate within its file.
public struct ValidRow: Sendable, Equatable {
    public let pod: String
    public let sid: String
    public let configurationType: ConfigurationType

    public init(pod: String, sid: String, configurationType: ConfigurationType) {
        self.pod = pod
        self.sid = sid
        self.configurationType = configurationType
    }
}

/// The verdict of checks 1–5 on one row.
public enum RowValidation: Sendable, Equatable {
    case valid(ValidRow)
    case refused(RowCode, detail: String?)
}

/// Checks 1–5 of the brief, in order, first failure wins. Pure: no registry needed.
/// One validator per file, since duplicates are judged against the earlier valid rows.
public struct RowValidator: Sendable {
    private var seenPODs: [String: Int] = [:]
    private var seenSIDs: [String: Int] = [:]

    public init() {}

    public mutating func check(_ row: DataRow) -> RowValidation {
        let cells = row.cells
        // 1: exactly three cells once trailing empty cells are dropped.
        guard cells.count == 3 else {
            return .refused(.invalidRow, detail: "trovate \(cells.count) colonne")
        }
        let pod = cells[0], sid = cells[1], type = cells[2]
        // 2
        if pod.isEmpty { return .refused(.invalidPOD, detail: "POD vuoto") }
        // Characters as the SI counts them, not bytes: "IT001E0000000è" has 14 (15 bytes).
        if pod.count > Identifiers.maxPODLength { return .refused(.invalidPOD, detail: "più di 15 caratteri") }
        if !Identifiers.isValidPOD(pod) { return .refused(.invalidPOD, detail: nil) }
        // 3
        if Identifiers.isNID(sid) { return .refused(.nidNotAllowed, detail: nil) }
        if !Identifiers.isValidSID(sid) { return .refused(.invalidSID, detail: nil) }
        // 4
        guard let configurationType = ConfigurationType(parsing: type) else {
            return .refused(.invalidConfigType, detail: nil)
        }
        // 5: POD first, then SID, against earlier rows that passed 1–5.
        if let line = seenPODs[pod] { return .refused(.duplicatePOD, detail: "vedi riga \(line)") }
        if let line = seenSIDs[sid] { return .refused(.duplicateSID, detail: "vedi riga \(line)") }
        seenPODs[pod] = row.line
        seenSIDs[sid] = row.line
        return .valid(ValidRow(pod: pod, sid: sid, configurationType: configurationType))
    }
}
