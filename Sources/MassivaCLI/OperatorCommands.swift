import MassivaCSV
import MassivaConfig
import MassivaDomain
import MassivaProcessing
import MassivaRegistry
import MassivaSpool
import MassivaStore
import MassivaSystem

/// `config`, `template`, `registry import`, `validate`.
enum OperatorCommands {
    static let all: [Command] = [config, template, registryImport, validate]

    static let config = Command(CommandDeclaration(
        ["config"], summary: "print the effective configuration (like postconf)",
        flags: [FlagDeclaration("-n", help: "only the parameters that differ from the built-in defaults")]), privilege: .none) { context in
        for line in try context.configuration().lines(onlyNonDefault: context.arguments.flag("-n")) { Output.print(line) }
        return 0
    }

    /// The manual's template: the three columns, `;`, CRLF.
    static let templateBytes = Array("POD;Identificativo MOME/Smart INFO;Tipo Configurazione\r\n".utf8)

    /// The manual's "template .csv di esempio" (Figura 10): the header, then one example row of
    /// each configuration type whose POD and SID are placeholders the SI overwrites.
    ///
    /// The CSV contract has no comments, so the examples are rows the contract already reads,
    /// written so that they can never do anything: the POD's `x` are not digits, so a row left
    /// in by mistake is refused at check 2 (`INVALID_POD`) before the registry is asked anything,
    /// in `validate` and in a request alike. They contain digits, so neither is ever taken for
    /// the header. The rows are distinct, so they never meet as duplicates either. ASCII, `;`,
    /// CRLF: what Excel opens directly, as the header-only template.
    static let exampleRows = [
        "IT001Exxxxxxxx;16SMISF8100xxxxxx;Standard",
        "IT001Eyyyyyyyy;16MOMSPC300yyyyyy;Prosumer",
    ]
    static let exampleBytes = templateBytes + Array(exampleRows.map { $0 + "\r\n" }.joined().utf8)

    static let template = Command(CommandDeclaration(
        ["template"], summary: "print the CSV template of a bulk request",
        flags: [FlagDeclaration("--example", help: """
            add one example row of each configuration type (Standard, Prosumer), as the manual's Figura 10: \
            overwrite them with real rows; one left in is refused as INVALID_POD and changes nothing
            """)]), privilege: .none) { context in
        Output.write(context.arguments.flag("--example") ? exampleBytes : templateBytes)
        return 0
    }

    static let registryImport = Command(CommandDeclaration(
        ["registry", "import"], summary: "load DIR/pods.csv and DIR/devices.csv into the embedded registry",
        positionals: [PositionalDeclaration("DIR", help: "folder holding pods.csv and devices.csv")]), privilege: .spoolOwner,
        // Opened as the caller, before the command becomes the spool's owner (who may not read
        // the operator's folder); read through the descriptors afterwards.
        callerFiles: { context in RegistryFiles(directory: context.arguments.positionals[0]) }) { context, files in
        let directory = files.directory
        do {
            // Each problem is printed as it is found: a file of millions of bad lines is reported
            // whole without being held in memory.
            let counts = try RegistryImporter.importFiles(files, into: try context.registry()) { problem in
                Output.error("\(directory)/\(problem)")
            }
            Output.print("imported \(counts.pods) PODs and \(counts.devices) devices from \(directory) "
                         + "(\(counts.added) added, \(counts.changed) changed, \(counts.removed) removed)")
            return 0
        } catch let error as RegistryImportError {
            throw CLIError("\(error.count) problem(s); nothing was imported")
        }
    }

    static let validate = Command(CommandDeclaration(
        ["validate"], summary: "check bulk files as the engine would (file rules, row checks 1-5), without submitting",
        positionals: [PositionalDeclaration("FILE", minimum: 1, maximum: nil, help: "CSV files to check")]), privilege: .none) { context in
        let configuration = try context.configuration()
        var problems = 0
        for path in context.arguments.positionals {
            let report = FileCheck.check(path: path, maxRows: configuration.maxRows, maxFileSize: configuration.maxFileSize)
            for line in report.notes + report.problems { Output.print(line) }
            problems += report.problems.count
            if report.problems.isEmpty { Output.print("\(path): OK, \(report.rows) rows") }
        }
        return problems == 0 ? 0 : 1
    }
}

/// The checks an SI can make before uploading: everything that does not need the registry.
enum FileCheck {
    struct Report {
        var rows = 0
        var problems: [String] = []
        /// What the SI should know that is not a problem (the header's line).
        var notes: [String] = []
    }

    static func check(path: String, maxRows: Int, maxFileSize: Int) -> Report {
        var report = Report()
        let bytes: [UInt8]
        switch readUpload(path: path, maxFileSize: maxFileSize) {
        case .success(let b): bytes = b
        case .failure(let rejection):
            report.problems.append("\(path): \(rejection.reason)")
            return report
        }
        let rows: [DataRow]
        do {
            let collector = try BulkFile.read(bytes, maxRows: maxRows)
            // Which line was taken as the header (and so not checked): the SI can tell a
            // header it meant from a first row it mistyped without digits.
            if let line = collector.headerLine {
                report.notes.append("\(path):\(line): intestazione (nessuna cifra nella riga): non è una riga di dati")
            }
            rows = try collector.finish()
        } catch {
            report.problems.append("\(path): \(error.reason)")
            return report
        }
        report.rows = rows.count
        var validator = RowValidator()
        for row in rows {
            if case .refused(let code, let detail) = validator.check(row) {
                let field: String
                switch code {
                case .invalidPOD, .duplicatePOD: field = "POD"
                case .nidNotAllowed, .invalidSID, .duplicateSID: field = "Identificativo MOME/Smart INFO"
                case .invalidConfigType: field = "Tipo Configurazione"
                default: field = "riga"
                }
                report.problems.append("\(path):\(row.line): \(field): \(code.rawValue): \(code.description)" + (detail.map { " (\($0))" } ?? ""))
            }
        }
        return report
    }

    /// Reads a file given on the command line with the intake's rules: a regular file, not a
    /// link, at most `maxFileSize` bytes.
    static func readUpload(path: String, maxFileSize: Int) -> Result<[UInt8], FileRejection> {
        // Opened non-blocking and checked with fstat after the open (RegularFile): a FIFO given
        // here never blocks the command, and nothing is swapped in between a check and the open.
        do {
            return .success(try RegularFile.read(path, limit: maxFileSize, followSymlinks: false))
        } catch {
            switch error {
            case .notRegular(let kind): return .failure(.notRegularFile(kind: kind.italianName))
            case .tooLarge: return .failure(.tooLarge(size: maxFileSize + 1, limit: maxFileSize))
            case .system(let problem) where problem.errno == .tooManySymbolicLinks:
                return .failure(.notRegularFile(kind: FileStatus.Kind.symlink.italianName))
            case .system(let problem): return .failure(.unreadable(detail: "\(problem)"))
            }
        }
    }
}
