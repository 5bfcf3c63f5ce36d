import MassivaCSV
import MassivaDomain
import MassivaStore
import MassivaSystem

/// Renders the files an SI downloads: esito.csv, stato.json, scp.zip entries, richieste.csv.
/// Pure functions of the recorded state, so a refresh after a crash writes the same bytes.
public struct ResultFiles: Sendable {
    /// The CSVs' encoding (`results_encoding`); stato.json and the SCP scripts are UTF-8 always.
    public var encoding: CSVOutputEncoding

    public init(encoding: CSVOutputEncoding) { self.encoding = encoding }

    public init(bom: Bool = true) { self.encoding = bom ? .utf8BOM : .utf8 }

    public var bom: Bool { encoding.bom }

    public static let esitoHeader = ["POD", "NID", "SID", "TIPO DISPOSITIVO", "TIPO CONFIGURAZIONE", "POD PRODUZIONE", "MATRICOLA",
                                     "GESIS", "SYSTEM INTEGRATOR", "CONFIGURATORE", "DATA ELABORAZIONE", "ESITO", "CODICE",
                                     "DESCRIZIONE", "TENTATIVI"]
    public static let requestListHeader = ["IDENTIFICATIVO DELLA RICHIESTA", "NOME FILE", "DATA SOTTOMISSIONE", "DATA COMPLETAMENTO",
                                           "AVANZAMENTO ELABORAZIONE", "NUMERO DI ERRORI", "ESITO DELLA RICHIESTA"]

    public func esito(request: RequestRecord, tenantName: String, rows: [RowRecord]) -> [UInt8] {
        var writer = CSVWriter(delimiter: .semicolon, crlf: true, encoding: encoding)
        writer.write(Self.esitoHeader)
        var time = TimestampCache()
        for row in rows {
            writer.write([row.pod, row.nid, row.sid, row.deviceType, row.configuration, row.productionPOD, row.matricola,
                          row.gesis ? "SI" : "", tenantName, request.configurator,
                          time.iso8601(row.processedAt), row.code.esito, row.code.rawValue,
                          row.description, String(row.attempts)])
        }
        return writer.bytes
    }

    /// richieste.csv; `withTenant` adds a leading DITTA column for the operator's list of all tenants.
    public func requestList(_ requests: [RequestRecord], withTenant: Bool = false) -> [UInt8] {
        var writer = CSVWriter(delimiter: .semicolon, crlf: true, encoding: encoding)
        writer.write((withTenant ? ["DITTA"] : []) + Self.requestListHeader)
        for r in requests { writer.write((withTenant ? [r.tenant] : []) + Self.requestListCells(r)) }
        return writer.bytes
    }

    /// One line of richieste.csv.
    public static func requestListCells(_ r: RequestRecord) -> [String] {
        [r.id.description, r.fileName, SystemClock.iso8601(r.submittedAt), r.completedAt.map(SystemClock.iso8601) ?? "",
         "\(r.rowsProcessed)/\(r.rowsTotal)", String(r.rowsFailed), r.outcomeLabel]
    }

    public static func stato(_ r: RequestRecord) -> [UInt8] {
        func s(_ v: String?) -> String { v.map(EventLog.jsonString) ?? "null" }
        let fields: [(String, String)] = [
            ("id", s(r.id.description)), ("tenant", s(r.tenant)), ("file", s(r.fileName)), ("status", s(r.status.rawValue)),
            ("outcome", s(r.outcomeLabel)), ("reason", s(r.reason)), ("rows_total", String(r.rowsTotal)),
            ("rows_processed", String(r.rowsProcessed)), ("rows_failed", String(r.rowsFailed)),
            ("rows_waiting", String(r.status == .processing ? r.rowsTotal - r.rowsProcessed : 0)),
            ("submitted_at", s(SystemClock.iso8601(r.submittedAt))), ("completed_at", s(r.completedAt.map(SystemClock.iso8601))),
            ("next_attempt_at", s(r.status == .processing ? r.nextDueAt.map(SystemClock.iso8601) : nil)), ("note", s(r.note)),
        ]
        let body = fields.map { "  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n")
        return Array("{\n\(body)\n}\n".utf8)
    }

    /// The SCP/1 scripts of the associated rows. An associated row always has its configuration
    /// type (the store decodes no other); one without it is an error, never a default.
    public static func scripts(request: RequestRecord, rows: [RowRecord]) throws -> [(name: String, bytes: [UInt8])] {
        var time = TimestampCache()
        // A script that cannot be rendered (a control character in stored data) is left out
        // rather than fail the whole refresh, and with it every later one: the row processor
        // refuses such data before associating, so only an association made by an older
        // release can be one.
        return try rows.filter { $0.code == .ok }.compactMap { row in
            guard let type = row.configurationType else {
                throw RecordError(table: "rows", key: "\(request.id) row \(row.position + 1)", column: "configuration", value: row.configuration)
            }
            let script = ScpScript(requestID: request.id.description, generatedAt: time.iso8601(row.processedAt),
                                   deviceType: row.deviceType, sid: row.sid, nid: row.nid, configurationType: type,
                                   exchangePOD: row.pod, productionPOD: row.productionPOD.isEmpty ? nil : row.productionPOD,
                                   matricola: row.matricola, eneltel: row.eneltel, gesis: row.gesis)
            guard let bytes = try? script.render() else { return nil }
            return (script.fileName, bytes)
        }
    }
}

/// The rows of one pass share their processing time: format it once.
public struct TimestampCache {
    private var last: (seconds: Double, text: String)?

    public init() {}

    public mutating func iso8601(_ seconds: Double?) -> String {
        guard let seconds else { return "" }
        if let last, last.seconds == seconds { return last.text }
        let text = SystemClock.iso8601(seconds)
        last = (seconds, text)
        return text
    }
}
