import MassivaCSV
import MassivaDomain
import MassivaSystem

/// Every problem found in the registry files, each with file and line.
public struct RegistryImportError: Error, CustomStringConvertible {
    public let problems: [String]
    public var description: String { problems.joined(separator: "\n") }
}

/// The registry's master data as `massiva registry import` loads it: every POD and device.
public struct RegistryMasterData: Sendable, Equatable {
    public struct POD: Sendable, Equatable {
        public var record: PODRecord
        public var reachability: Reachability
    }

    public var pods: [POD]
    public var devices: [DeviceRecord]
}

/// Reads `DIR/pods.csv` and `DIR/devices.csv` (MassivaStore's `EmbeddedRegistry` loads them).
///
/// All or nothing: every line is checked first; one bad line and nothing is imported. A
/// re-import replaces the master data (PODs, devices) and keeps associations, probe counts and
/// history.
public enum RegistryImporter {
    public static let podColumns = ["pod", "eneltel", "matricola", "meter_type", "exchange_pod", "telemanaged", "eligible", "reachability", "holder_tax_code"]
    public static let deviceColumns = ["sid", "nid", "device_type", "owner"]

    struct PODLine { var line: Int; var values: [String] }

    /// Reads and checks both files; throws `RegistryImportError` with every problem found.
    public static func read(directory: String) throws -> RegistryMasterData {
        var problems: [String] = []
        let podsPath = directory + "/pods.csv", devicesPath = directory + "/devices.csv"
        let podRows = readTable(podsPath, columns: podColumns, problems: &problems)
        let deviceRows = readTable(devicesPath, columns: deviceColumns, problems: &problems)

        var m1: Set<String> = [], seenPODs: [String: Int] = [:], seenSIDs: [String: Int] = [:]
        for row in podRows where row.values[3] == "M1" { m1.insert(row.values[0]) }
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
            if v[2] != "MOME" && v[2] != "Smart Info" { problems.append("\(at): device_type: expected MOME or Smart Info, got \"\(v[2])\"") }
            if v[3].isEmpty { problems.append("\(at): owner: empty") }
        }
        if !problems.isEmpty { throw RegistryImportError(problems: problems) }

        let pods = podRows.map { row in
            let v = row.values
            return RegistryMasterData.POD(
                record: PODRecord(pod: v[0], eneltel: v[1], matricola: v[2], meterType: v[3] == "M2" ? .production : .exchange,
                                  exchangePOD: v[4].isEmpty ? nil : v[4], telemanaged: v[5] == "true", eligible: v[6] == "true",
                                  holderTaxCode: v[8], productionPODs: []),
                reachability: Reachability(parsing: v[7])!)  // every line was checked above
        }
        let devices = deviceRows.map { row in
            DeviceRecord(sid: row.values[0], nid: row.values[1].uppercased(), deviceType: row.values[2], owner: row.values[3])
        }
        return RegistryMasterData(pods: pods, devices: devices)
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
    static func readFile(_ path: String) throws -> [UInt8] {
        let fd = try FileDescriptor.open(path, .readOnly, options: [.noFollow, .closeOnExec])
        defer { try? fd.close() }
        return try fd.read(upTo: 1 << 30).bytes
    }
}
