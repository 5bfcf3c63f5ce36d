import MassivaCSV
import MassivaDatabase
import MassivaDomain
import MassivaSystem

/// Every problem found in the registry files, each with file and line.
public struct RegistryImportError: Error, CustomStringConvertible {
    public let problems: [String]
    public var description: String { problems.joined(separator: "\n") }
}

/// Loads `DIR/pods.csv` and `DIR/devices.csv` into the embedded registry.
///
/// All or nothing: every line is checked first; one bad line and nothing is imported. A
/// re-import replaces the master data (PODs, devices) and keeps associations, probe counts and
/// history.
public enum RegistryImporter {
    public static let podColumns = ["pod", "eneltel", "matricola", "meter_type", "exchange_pod", "telemanaged", "eligible", "reachability", "holder_tax_code"]
    public static let deviceColumns = ["sid", "nid", "device_type", "owner"]

    struct PODLine { var line: Int; var values: [String] }

    @discardableResult
    public static func importDirectory(_ directory: String, into registry: EmbeddedRegistry) throws -> (pods: Int, devices: Int) {
        var problems: [String] = []
        let podsPath = directory + "/pods.csv", devicesPath = directory + "/devices.csv"
        let podRows = readTable(podsPath, columns: podColumns, problems: &problems)
        let deviceRows = readTable(devicesPath, columns: deviceColumns, problems: &problems)

        var m1: Set<String> = [], seenPODs: [String: Int] = [:], seenSIDs: [String: Int] = [:], seenNIDs: [String: Int] = [:]
        for row in podRows where row.values[3] == "M1" { m1.insert(row.values[0]) }
        // Master data ends up in SCP scripts (one key=value per line), CSVs and logs: a line
        // break or another control character in a quoted field would break them all later,
        // long after the import. Refused here, with file, line and field.
        for (file, rows, columns) in [("pods.csv", podRows, podColumns), ("devices.csv", deviceRows, deviceColumns)] {
            for row in rows {
                for (column, value) in zip(columns, row.values) where value.unicodeScalars.contains(where: isControl) {
                    problems.append("\(file):\(row.line): \(column): control character in \(printable(value))")
                }
            }
        }
        for row in podRows {
            let v = row.values
            let at = "pods.csv:\(row.line)"
            if !Identifiers.isValidPOD(v[0]) { problems.append("\(at): pod: \"\(v[0])\" is not a POD (IT + 3 digits + E + 8 digits)") }
            if let first = seenPODs[v[0]] { problems.append("\(at): pod: \"\(v[0])\" already on line \(first)") } else { seenPODs[v[0]] = row.line }
            if v[1].utf8.count != 9 || !v[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { problems.append("\(at): eneltel: expected 9 digits, got \"\(v[1])\"") }
            if v[2].isEmpty { problems.append("\(at): matricola: empty") }
            switch v[3] {
            case "M1": if !v[4].isEmpty { problems.append("\(at): exchange_pod: must be empty on an M1 row") }
            case "M2":
                if !m1.contains(v[4]) { problems.append("\(at): exchange_pod: \"\(v[4])\" is not an M1 POD of this file") }
            default: problems.append("\(at): meter_type: expected M1 or M2, got \"\(v[3])\"")
            }
            for (i, name) in [(5, "telemanaged"), (6, "eligible")] where v[i] != "true" && v[i] != "false" {
                problems.append("\(at): \(name): expected true or false, got \"\(v[i])\"")
            }
            if Reachability(parsing: v[7]) == nil { problems.append("\(at): reachability: expected reachable, unreachable or flaky:N, got \"\(v[7])\"") }
        }
        for row in deviceRows {
            let v = row.values
            let at = "devices.csv:\(row.line)"
            if !Identifiers.isValidSID(v[0]) { problems.append("\(at): sid: expected 17 letters or digits, got \"\(v[0])\"") }
            if let first = seenSIDs[v[0]] { problems.append("\(at): sid: \"\(v[0])\" already on line \(first)") } else { seenSIDs[v[0]] = row.line }
            if !Identifiers.isNID(v[1]) { problems.append("\(at): nid: expected 12 hexadecimal characters, got \"\(v[1])\"") }
            // Stored upper-cased: "dc26..." and "DC26..." are the same device.
            if let first = seenNIDs[v[1].uppercased()] { problems.append("\(at): nid: \"\(v[1])\" already on line \(first)") } else { seenNIDs[v[1].uppercased()] = row.line }
            if v[2] != "MOME" && v[2] != "Smart Info" { problems.append("\(at): device_type: expected MOME or Smart Info, got \"\(v[2])\"") }
            if v[3].isEmpty { problems.append("\(at): owner: empty") }
        }
        if !problems.isEmpty { throw RegistryImportError(problems: problems) }

        let db = registry.database
        try db.transaction {
            try db.execute("DELETE FROM pods; DELETE FROM devices;")
            for row in podRows {
                let v = row.values
                try db.run("INSERT INTO pods(pod, eneltel, matricola, meter_type, exchange_pod, telemanaged, eligible, reachability, holder_tax_code) VALUES(?,?,?,?,?,?,?,?,?)", [
                    .text(v[0]), .text(v[1]), .text(v[2]), .text(v[3]), v[4].isEmpty ? .null : .text(v[4]),
                    SQLValue(v[5] == "true"), SQLValue(v[6] == "true"), .text(v[7]), .text(v[8]),
                ])
            }
            for row in deviceRows {
                let v = row.values
                try db.run("INSERT INTO devices(sid, nid, device_type, owner) VALUES(?,?,?,?)",
                           [.text(v[0]), .text(v[1].uppercased()), .text(v[2]), .text(v[3])])
            }
        }
        return (podRows.count, deviceRows.count)
    }

    static func readTable(_ path: String, columns: [String], problems: inout [String]) -> [PODLine] {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let bytes: [UInt8]
        do { bytes = try readFile(path) } catch {
            problems.append("\(name): cannot read: \(error)")
            return []
        }
        let document: CSVDocument
        do { document = try CSVReader.read(bytes, delimiter: .comma) } catch {
            problems.append("\(name): \(error)")
            return []
        }
        guard let header = document.records.first else {
            problems.append("\(name): empty file, expected the header \(columns.joined(separator: ","))")
            return []
        }
        let names = header.cells.map { $0.trimmingWhitespace() }
        guard names == columns else {
            problems.append("\(name):\(header.line): header: expected \(columns.joined(separator: ",")), got \(names.joined(separator: ","))")
            return []
        }
        var rows: [PODLine] = []
        for record in document.records.dropFirst() {
            var cells = record.cells.map { $0.trimmingWhitespace() }
            if cells.allSatisfy({ $0.isEmpty }) { continue }
            while cells.count > columns.count, cells.last == "" { cells.removeLast() }
            guard cells.count == columns.count else {
                problems.append("\(name):\(record.line): expected \(columns.count) fields, got \(cells.count)")
                continue
            }
            rows.append(PODLine(line: record.line, values: cells))
        }
        return rows
    }

    /// A registry file: master data, so it may be large (up to 1 GiB), but never a link.
    /// C0, DEL and C1 control characters.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value < 0xA0)
    }

    /// `value` quoted, with control characters shown as `\u{..}` so a message stays one line.
    static func printable(_ value: String) -> String {
        var text = "\""
        for scalar in value.unicodeScalars.prefix(80) {
            text += isControl(scalar) ? "\\u{\(String(scalar.value, radix: 16, uppercase: true))}" : String(scalar)
        }
        return text + (value.unicodeScalars.count > 80 ? "...\"" : "\"")
    }

    /// Opened non-blocking and refused unless regular (a FIFO as pods.csv hung the import).
    static func readFile(_ path: String) throws -> [UInt8] {
        try RegularFile.read(path, limit: maximumFileSize, followSymlinks: false)
    }

    /// The largest registry file read.
    public static let maximumFileSize = 1 << 30
}
