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

    /// At most this many problems are listed (then how many more there were).
    static let problemLimit = 1000

    /// Reads and checks both files; throws `RegistryImportError` with every problem found.
    public static func read(directory: String) throws -> RegistryMasterData {
        let problems = Problems()
        let podsPath = directory + "/pods.csv", devicesPath = directory + "/devices.csv"
        let podBytes = readBytes(podsPath, problems: problems)
        let deviceBytes = readBytes(devicesPath, problems: problems)

        // Streamed, record by record, in passes over the files' bytes: memory in proportion to
        // the files and their keys, not to every field of every row held at once (about 9
        // bytes of memory per byte of file). The first pass finds the M1 PODs (an M2 row may
        // come before its exchange POD), the second checks every line, the third inserts.
        var m1: Set<String> = []
        eachRow(podBytes, name: "pods.csv", columns: podColumns, problems: nil) { _, v in
            if v[3] == "M1" { m1.insert(v[0]) }
        }
        var seenPODs: [String: Int] = [:], seenSIDs: [String: Int] = [:], seenNIDs: [String: Int] = [:]
        let podCount = eachRow(podBytes, name: "pods.csv", columns: podColumns, problems: problems) { line, v in
            let at = "pods.csv:\(line)"
            checkControls("pods.csv", line, podColumns, v, problems)
            if !Identifiers.isValidPOD(v[0]) { problems.add("\(at): pod: \"\(v[0])\" is not a POD (IT + 3 digits + E + 8 digits)") }
            if let first = seenPODs[v[0]] { problems.add("\(at): pod: \"\(v[0])\" already on line \(first)") } else { seenPODs[v[0]] = line }
            if v[1].utf8.count != 9 || !v[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { problems.add("\(at): eneltel: expected 9 digits, got \"\(v[1])\"") }
            if v[2].isEmpty { problems.add("\(at): matricola: empty") }
            switch v[3] {
            case "M1": if !v[4].isEmpty { problems.add("\(at): exchange_pod: must be empty on an M1 row") }
            case "M2":
                if !m1.contains(v[4]) { problems.add("\(at): exchange_pod: \"\(v[4])\" is not an M1 POD of this file") }
            default: problems.add("\(at): meter_type: expected M1 or M2, got \"\(v[3])\"")
            }
            for (i, name) in [(5, "telemanaged"), (6, "eligible")] where v[i] != "true" && v[i] != "false" {
                problems.add("\(at): \(name): expected true or false, got \"\(v[i])\"")
            }
            if Reachability(parsing: v[7]) == nil { problems.add("\(at): reachability: expected reachable, unreachable or flaky:N, got \"\(v[7])\"") }
        }
        seenPODs = [:]
        m1 = []
        let deviceCount = eachRow(deviceBytes, name: "devices.csv", columns: deviceColumns, problems: problems) { line, v in
            let at = "devices.csv:\(line)"
            checkControls("devices.csv", line, deviceColumns, v, problems)
            if !Identifiers.isValidSID(v[0]) { problems.add("\(at): sid: expected 17 letters or digits, got \"\(v[0])\"") }
            if let first = seenSIDs[v[0]] { problems.add("\(at): sid: \"\(v[0])\" already on line \(first)") } else { seenSIDs[v[0]] = line }
            if !Identifiers.isNID(v[1]) { problems.add("\(at): nid: expected 12 hexadecimal characters, got \"\(v[1])\"") }
            // Stored upper-cased: "dc26..." and "DC26..." are the same device.
            if let first = seenNIDs[v[1].uppercased()] { problems.add("\(at): nid: \"\(v[1])\" already on line \(first)") } else { seenNIDs[v[1].uppercased()] = line }
            if v[2] != "MOME" && v[2] != "Smart Info" { problems.add("\(at): device_type: expected MOME or Smart Info, got \"\(v[2])\"") }
            if v[3].isEmpty { problems.add("\(at): owner: empty") }
        }
        seenSIDs = [:]
        seenNIDs = [:]
        if !problems.list.isEmpty { throw RegistryImportError(problems: problems.finished) }

        var pods: [RegistryMasterData.POD] = []
        eachRow(podBytes, name: "pods.csv", columns: podColumns, problems: nil) { _, v in
            // Every line was checked above: a reachability that does not parse is not here.
            guard let reachability = Reachability(parsing: v[7]) else { return }
            pods.append(RegistryMasterData.POD(
                record: PODRecord(pod: v[0], eneltel: v[1], matricola: v[2], meterType: v[3] == "M2" ? .production : .exchange,
                                  exchangePOD: v[4].isEmpty ? nil : v[4], telemanaged: v[5] == "true", eligible: v[6] == "true",
                                  holderTaxCode: v[8], productionPODs: []),
                reachability: reachability))
        }
        var devices: [DeviceRecord] = []
        eachRow(deviceBytes, name: "devices.csv", columns: deviceColumns, problems: nil) { _, v in
            devices.append(DeviceRecord(sid: v[0], nid: v[1].uppercased(), deviceType: v[2], owner: v[3]))
        }
        _ = (podCount, deviceCount)
        return RegistryMasterData(pods: pods, devices: devices)
    }

    /// The problems found, at most `problemLimit` of them kept.
    final class Problems {
        var list: [String] = []
        var more = 0
        func add(_ problem: String) {
            if list.count < RegistryImporter.problemLimit { list.append(problem) } else { more += 1 }
        }
        var finished: [String] { more == 0 ? list : list + ["... and \(more) more problem(s)"] }
    }

    /// Master data ends up in SCP scripts (one key=value per line), CSVs and logs: a line
    /// break or another control character in a quoted field would break them all later, long
    /// after the import. Refused here, with file, line and field.
    static func checkControls(_ file: String, _ line: Int, _ columns: [String], _ values: [String], _ problems: Problems) {
        for (column, value) in zip(columns, values) where value.unicodeScalars.contains(where: isControl) {
            problems.add("\(file):\(line): \(column): control character in \(printable(value))")
        }
    }

    /// The file's bytes, or nil with the problem noted.
    static func readBytes(_ path: String, problems: Problems) -> [UInt8]? {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        do { return try readFile(path) } catch {
            problems.add("\(name): cannot read: \(error)")
            return nil
        }
    }

    /// Calls `body` with each data line's number and trimmed values, after checking the header
    /// and the field count; returns how many lines it was called for. Problems are noted only
    /// when `problems` is given (the checking pass), so later passes do not repeat them.
    @discardableResult
    static func eachRow(_ bytes: [UInt8]?, name: String, columns: [String], problems: Problems?,
                        _ body: (Int, [String]) -> Void) -> Int {
        guard let bytes else { return 0 }
        var sawHeader = false
        var headerOK = false
        var count = 0
        do {
            try CSVReader.forEachRecord(bytes, delimiter: .comma) { (record: CSVRecord) throws(Never) in
                if !sawHeader {
                    sawHeader = true
                    let names = record.cells.map { $0.trimmingWhitespace() }
                    headerOK = names == columns
                    if !headerOK {
                        problems?.add("\(name):\(record.line): header: expected \(columns.joined(separator: ",")), got \(names.joined(separator: ","))")
                    }
                    return
                }
                guard headerOK else { return }
                var cells = record.cells.map { $0.trimmingWhitespace() }
                if cells.allSatisfy({ $0.isEmpty }) { return }
                while cells.count > columns.count, cells.last == "" { cells.removeLast() }
                guard cells.count == columns.count else {
                    problems?.add("\(name):\(record.line): expected \(columns.count) fields, got \(cells.count)")
                    return
                }
                count += 1
                body(record.line, cells)
            }
        } catch {
            switch error {
            case .csv(let problem): problems?.add("\(name): \(problem)")
            }
        }
        if !sawHeader { problems?.add("\(name): empty file, expected the header \(columns.joined(separator: ","))") }
        return headerOK ? count : 0
    }

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
