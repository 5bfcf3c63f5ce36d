import MassivaCSV
import MassivaDomain
import MassivaSystem

/// The registry files had problems, each reported with file and line; nothing was imported.
/// `problems` keeps the first `RegistryImporter.keptProblems` of them (a file of millions of bad
/// lines must not take memory without bound); `count` is how many there were. Every one of them
/// went to the `report` closure of `RegistryImporter.importDirectory` as it was found.
public struct RegistryImportError: Error, CustomStringConvertible {
    public let problems: [String]
    public let count: Int
    public var description: String {
        problems.joined(separator: "\n") + (count > problems.count ? "\n... and \(count - problems.count) more" : "")
    }
}

/// One checked line of `pods.csv`.
public struct ImportedPOD: Sendable, Equatable {
    public var line: Int
    public var pod: String
    public var eneltel: String
    public var matricola: String
    public var meterType: PODRecord.MeterType
    public var exchangePOD: String?
    public var telemanaged: Bool
    public var eligible: Bool
    public var reachability: Reachability
    public var holderTaxCode: String
}

/// One checked line of `devices.csv`.
public struct ImportedDevice: Sendable, Equatable {
    public var line: Int
    public var device: DeviceRecord
}

/// A line whose key was on an earlier line.
public struct ImportDuplicate: Sendable, Equatable {
    public var line: Int
    /// `pod`, `sid` or `nid`.
    public var field: String
    public var value: String
    public var first: Int
    public init(line: Int, field: String, value: String, first: Int) {
        self.line = line
        self.field = field
        self.value = value
        self.first = first
    }
}

/// What an import changed: a re-import of the same files changes nothing.
public struct RegistryImportCounts: Sendable, Equatable {
    public var pods = 0, devices = 0
    /// Lines added, changed and removed, PODs and devices together.
    public var added = 0, changed = 0, removed = 0
    public init() {}
}

/// Where `RegistryImporter` loads the master data: the embedded registry (MassivaStore's
/// `EmbeddedRegistry`) stages the lines in a scratch database and applies the difference.
public protocol RegistryImportTarget: AnyObject {
    /// Starts an import: an empty staging area.
    func beginImport() throws
    /// Stages checked lines; returns, for each line whose POD (SID, or NID in any case) was
    /// already staged, that line, the field and the line it first appeared on.
    func stage(pods: [ImportedPOD]) throws -> [ImportDuplicate]
    func stage(devices: [ImportedDevice]) throws -> [ImportDuplicate]
    /// The staged M2 lines whose exchange POD is no staged M1 POD, in line order.
    func eachOrphanProductionPOD(_ body: (_ line: Int, _ exchangePOD: String) throws -> Void) throws
    /// Replaces the master data with what is staged, in one transaction, changing only the
    /// lines that differ.
    func commitImport() throws -> RegistryImportCounts
    /// Drops the staging area (after `commitImport`, or instead of it).
    func endImport()
}

/// Reads `DIR/pods.csv` and `DIR/devices.csv` (MassivaStore's `EmbeddedRegistry` loads them).
///
/// Streaming: the files are read in 1 MiB chunks and checked line by line; the lines go in
/// batches to the target's staging area, which checks what spans lines (a POD twice, an M2 line
/// whose exchange POD is no M1 POD of the file). Memory stays bounded whatever the files' size
/// (measured in docs/performance.md: 32 million PODs). All or nothing: one problem and nothing is
/// imported. A re-import replaces the master data (PODs, devices), changing only the lines that
/// differ, and keeps associations, probe counts and history.
public enum RegistryImporter {
    public static let podColumns = ["pod", "eneltel", "matricola", "meter_type", "exchange_pod", "telemanaged", "eligible", "reachability", "holder_tax_code"]
    public static let deviceColumns = ["sid", "nid", "device_type", "owner"]
    /// Problems kept in `RegistryImportError.problems`; all of them are reported.
    public static let keptProblems = 1000
    /// Lines handed to the target at a time.
    static let batchSize = 4096

    /// Checks both files and loads them into `target`. Every problem goes to `report` as it is
    /// found (`"pods.csv:12: eneltel: ..."`); then `RegistryImportError` is thrown and nothing
    /// is imported.
    @discardableResult
    public static func importDirectory(_ directory: String, into target: any RegistryImportTarget,
                                       report: (String) -> Void = { _ in }) throws -> RegistryImportCounts {
        try importFiles(RegistryFiles(directory: directory), into: target, report: report)
    }

    /// `importDirectory` of files opened beforehand (`RegistryFiles`), e.g. with other rights
    /// than the process has now.
    @discardableResult
    public static func importFiles(_ files: RegistryFiles, into target: any RegistryImportTarget,
                                   report: (String) -> Void = { _ in }) throws -> RegistryImportCounts {
        try withoutActuallyEscaping(report) { report in try load(files, into: target, report: report) }
    }

    private static func load(_ files: RegistryFiles, into target: any RegistryImportTarget,
                             report: @escaping (String) -> Void) throws -> RegistryImportCounts {
        var problems = Problems(report: report)
        try target.beginImport()
        defer { target.endImport() }
        var pods: [ImportedPOD] = []
        pods.reserveCapacity(batchSize)
        try eachLine(files.pods, columns: podColumns, problems: &problems) { line, v, problems in
            if let pod = checkPOD(line, v, &problems) { pods.append(pod) }
            if pods.count >= batchSize {
                for d in try target.stage(pods: pods) { problems.add("pods.csv:\(d.line): \(d.field): \"\(d.value)\" already on line \(d.first)") }
                pods.removeAll(keepingCapacity: true)
            }
        }
        for d in try target.stage(pods: pods) { problems.add("pods.csv:\(d.line): \(d.field): \"\(d.value)\" already on line \(d.first)") }
        pods = []
        try target.eachOrphanProductionPOD { line, exchange in
            problems.add("pods.csv:\(line): exchange_pod: \"\(exchange)\" is not an M1 POD of this file")
        }
        var devices: [ImportedDevice] = []
        devices.reserveCapacity(batchSize)
        // `problems` passed in, not captured: called from eachLine's body, which holds the
        // outer one for writing (a capture was a fatal "simultaneous accesses" once a full batch
        // had a duplicate).
        func stageDevices(_ problems: inout Problems) throws {
            for d in try target.stage(devices: devices) {
                problems.add("devices.csv:\(d.line): \(d.field): \"\(d.value)\" already on line \(d.first)")
            }
            devices.removeAll(keepingCapacity: true)
        }
        try eachLine(files.devices, columns: deviceColumns, problems: &problems) { line, v, problems in
            if let device = checkDevice(line, v, &problems) { devices.append(device) }
            if devices.count >= batchSize { try stageDevices(&problems) }
        }
        try stageDevices(&problems)
        if problems.count > 0 { throw RegistryImportError(problems: problems.kept, count: problems.count) }
        return try target.commitImport()
    }

    /// Every problem reported at once, the first `keptProblems` kept.
    struct Problems {
        let report: (String) -> Void
        var kept: [String] = []
        var count = 0
        mutating func add(_ problem: String) {
            report(problem)
            if kept.count < RegistryImporter.keptProblems { kept.append(problem) }
            count += 1
        }
    }

    // MARK: Checks of one line (every field)

    static func checkPOD(_ line: Int, _ v: [String], _ problems: inout Problems) -> ImportedPOD? {
        let before = problems.count
        let at = "pods.csv:\(line)"
        checkControls("pods.csv", line, podColumns, v, &problems)
        if !Identifiers.isValidPOD(v[0]) { problems.add("\(at): pod: \"\(v[0])\" is not a POD (IT + 3 digits + E + 8 digits)") }
        if v[1].utf8.count != 9 || !v[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { problems.add("\(at): eneltel: expected 9 digits, got \"\(v[1])\"") }
        if v[2].isEmpty { problems.add("\(at): matricola: empty") }
        switch v[3] {
        case "M1": if !v[4].isEmpty { problems.add("\(at): exchange_pod: must be empty on an M1 row") }
        case "M2":
            // Whether it is an M1 POD of this file is checked once every line is staged.
            if !Identifiers.isValidPOD(v[4]) { problems.add("\(at): exchange_pod: \"\(v[4])\" is not an M1 POD of this file") }
        default: problems.add("\(at): meter_type: expected M1 or M2, got \"\(v[3])\"")
        }
        for (i, name) in [(5, "telemanaged"), (6, "eligible")] where v[i] != "true" && v[i] != "false" {
            problems.add("\(at): \(name): expected true or false, got \"\(v[i])\"")
        }
        let reachability = Reachability(parsing: v[7])
        if reachability == nil { problems.add("\(at): reachability: expected reachable, unreachable or flaky:N, got \"\(v[7])\"") }
        guard problems.count == before, let reachability else { return nil }
        return ImportedPOD(line: line, pod: v[0], eneltel: v[1], matricola: v[2], meterType: v[3] == "M2" ? .production : .exchange,
                           exchangePOD: v[4].isEmpty ? nil : v[4], telemanaged: v[5] == "true", eligible: v[6] == "true",
                           reachability: reachability, holderTaxCode: v[8])
    }

    static func checkDevice(_ line: Int, _ v: [String], _ problems: inout Problems) -> ImportedDevice? {
        let before = problems.count
        let at = "devices.csv:\(line)"
        checkControls("devices.csv", line, deviceColumns, v, &problems)
        if !Identifiers.isValidSID(v[0]) { problems.add("\(at): sid: expected 17 letters or digits, got \"\(v[0])\"") }
        if !Identifiers.isNID(v[1]) { problems.add("\(at): nid: expected 12 hexadecimal characters, got \"\(v[1])\"") }
        if v[2] != "MOME" && v[2] != "Smart Info" { problems.add("\(at): device_type: expected MOME or Smart Info, got \"\(v[2])\"") }
        if v[3].isEmpty { problems.add("\(at): owner: empty") }
        guard problems.count == before else { return nil }
        return ImportedDevice(line: line, device: DeviceRecord(sid: v[0], nid: v[1].uppercased(), deviceType: v[2], owner: v[3]))
    }

    /// Master data ends up in SCP scripts (one key=value per line), CSVs and logs: a line
    /// break or another control character in a quoted field would break them all later, long
    /// after the import. Refused here, with file, line and field.
    static func checkControls(_ file: String, _ line: Int, _ columns: [String], _ values: [String], _ problems: inout Problems) {
        for (column, value) in zip(columns, values) where value.unicodeScalars.contains(where: isControl) {
            problems.add("\(file):\(line): \(column): control character in \(printable(value))")
        }
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

    // MARK: Reading a file line by line

    /// Calls `body` with each data line of `file` (after the header, which must be `columns`):
    /// its line number and its cells, trimmed, exactly `columns.count` of them. Lines that
    /// cannot be read so are reported and skipped, and so is a file that could not be opened.
    static func eachLine(_ file: RegistryFile, columns: [String], problems: inout Problems,
                         _ body: (_ line: Int, _ cells: [String], _ problems: inout Problems) throws -> Void) throws {
        let name = file.name
        var header = true
        do {
            try RecordStream.each(try file.opened.get()) { line, record in
                let cells: [String]
                switch record {
                case .cells(let c): cells = c
                case .unreadable(let reason):
                    problems.add("\(name):\(line): \(reason)")
                    return true
                }
                if header {
                    let names = cells.map { $0.trimmingWhitespace() }
                    if names.allSatisfy(\.isEmpty) { return true }
                    header = false
                    if names != columns {
                        problems.add("\(name):\(line): header: expected \(columns.joined(separator: ",")), got \(names.joined(separator: ","))")
                        return false
                    }
                    return true
                }
                var trimmed = cells
                if trimmed.allSatisfy({ $0.isEmpty }) { return true }
                while trimmed.count > columns.count, trimmed.last == "" { trimmed.removeLast() }
                guard trimmed.count == columns.count else {
                    problems.add("\(name):\(line): expected \(columns.count) fields, got \(trimmed.count)")
                    return true
                }
                try body(line, trimmed, &problems)
                return true
            }
        } catch let error as SystemError {
            problems.add("\(name): cannot read: \(error)")
            return
        } catch let error as RecordStream.NotRegular {
            problems.add("\(name): cannot read: \(error)")
            return
        }
        if header { problems.add("\(name): empty file, expected the header \(columns.joined(separator: ","))") }
    }
}

/// The records of a comma-separated file, read in chunks: RFC 4180 quotes (a quoted cell may
/// hold commas and line breaks), CRLF, LF or lone CR, an initial UTF-8 BOM dropped. A line of
/// ASCII without quotes (nearly all of them) is split here; any other goes through `CSVReader`
/// (quotes, UTF-8 or Windows-1252), so the cells are those the whole-file reader gave.
enum RecordStream {
    enum Record { case cells([String]), unreadable(String) }

    struct NotRegular: Error, CustomStringConvertible {
        let kind: FileStatus.Kind
        var description: String { "not a regular file (a \(kind.rawValue))" }
    }

    static let chunkSize = 1 << 20

    /// Calls `body` with each record of the file open on `fd` (a regular file, see
    /// `RegistryFile`): the record's first line and its cells (trimmed); stops when it returns false.
    static func each(_ fd: FileDescriptor, _ body: (_ line: Int, _ record: Record) throws -> Bool) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var pending: [UInt8] = []    // the record being read, across chunks
        var inQuotes = false, hasQuote = false, ascii = true, hasNUL = false
        var line = 1                  // the line the next byte is on
        var recordLine = 1            // the line the pending record started on
        var lastWasCR = false
        // Only a quote that opens a cell (or doubles a closing one) starts quoted text; one in
        // the middle of an unquoted cell is an ordinary character, as CSVReader reads it.
        var cellStart = true, justClosed = false
        var first = true
        var going = true

        func emit() throws {
            defer { pending.removeAll(keepingCapacity: true); hasQuote = false; ascii = true; hasNUL = false }
            if hasNUL { going = try body(recordLine, .unreadable("contains a NUL byte: not a text file")); return }
            if !hasQuote && ascii {
                going = try body(recordLine, .cells(splitASCII(pending)))
                return
            }
            do {
                let document = try CSVReader.read(pending, delimiter: .comma)
                let cells = document.records.first?.cells ?? []
                going = try body(recordLine, .cells(cells.map { $0.trimmingWhitespace() }))
            } catch {
                going = try body(recordLine, .unreadable("\(error)"))
            }
        }

        while going {
            let count = try fd.read(into: buffer)
            if count == 0 { break }
            var bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<count]).bindMemory(to: UInt8.self)
            if first {
                first = false
                if count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF {
                    bytes = UnsafeBufferPointer(rebasing: bytes[3...])
                }
            }
            var start = bytes.startIndex
            var i = bytes.startIndex
            while i < bytes.endIndex && going {
                let c = bytes[i]
                if c == 0x22 {
                    if inQuotes { inQuotes = false; justClosed = true } else if cellStart || justClosed { inQuotes = true; justClosed = false }
                    hasQuote = true
                    cellStart = false
                    lastWasCR = false
                    i += 1
                    continue
                }
                justClosed = false
                if c == 0x2C { cellStart = !inQuotes; lastWasCR = false; i += 1; continue }
                if c != 0x0A && c != 0x0D { cellStart = false }
                if c >= 0x80 { ascii = false }
                else if c == 0 { hasNUL = true }
                else if (c == 0x0A || c == 0x0D) {
                    if c == 0x0A && lastWasCR {
                        // The LF of a CRLF: the record (or line) ended at the CR.
                        lastWasCR = false
                        if !inQuotes { start = i + 1; i += 1; continue }
                        i += 1
                        continue
                    }
                    line += 1
                    lastWasCR = c == 0x0D
                    if !inQuotes {
                        pending.append(contentsOf: bytes[start..<i])
                        try emit()
                        cellStart = true
                        recordLine = line
                        start = i + 1
                    }
                    i += 1
                    continue
                }
                lastWasCR = false
                i += 1
            }
            if going { pending.append(contentsOf: bytes[start..<i]) }
        }
        if going && !pending.isEmpty { try emit() }
    }

    /// The cells of an ASCII line without quotes, each trimmed of spaces, tabs, VT and FF.
    static func splitASCII(_ bytes: [UInt8]) -> [String] {
        var cells: [String] = []
        cells.reserveCapacity(9)
        bytes.withUnsafeBufferPointer { b in
            var start = 0
            func cut(_ end: Int) {
                var s = start, e = end
                while s < e && (b[s] == 0x20 || b[s] == 0x09 || b[s] == 0x0B || b[s] == 0x0C) { s += 1 }
                while e > s && (b[e - 1] == 0x20 || b[e - 1] == 0x09 || b[e - 1] == 0x0B || b[e - 1] == 0x0C) { e -= 1 }
                cells.append(String(decoding: UnsafeBufferPointer(rebasing: b[s..<e]), as: UTF8.self))
            }
            for i in 0..<b.count where b[i] == 0x2C {
                cut(i)
                start = i + 1
            }
            cut(b.count)
        }
        return cells
    }
}
