import MassivaCSV
import MassivaDomain
import MassivaResults
import MassivaSpool
import MassivaStore
import MassivaSystem

/// `submit`, `list`, `show`, `cancel`, `flush`, `retry`: the queue as operators see it.
/// Safe while the daemon runs: each is one short SQLite transaction.
enum RequestCommands {
    static let all: [Command] = [submit, list, show, cancel, flush, retry]

    /// A file given to `submit`: its bytes, or why it is refused as a request.
    struct Upload {
        var content: [UInt8]?
        var rejection: FileRejection?
    }

    static let submit = Command(CommandDeclaration(
        ["submit"], summary: "queue a copy of FILE as a request of TENANT and print its id",
        options: [Options.tenant], positionals: [PositionalDeclaration("FILE", help: "the bulk CSV file")]), privilege: .spoolOwner,
        callerFiles: { context in
            // Read as the caller, before the command becomes the spool's owner (who may not
            // read the operator's file), at most max_file_size bytes.
            let path = context.arguments.positionals[0]
            switch FileCheck.readUpload(path: path, maxFileSize: try context.configuration().maxFileSize) {
            case .success(let bytes): return Upload(content: bytes)
            case .failure(let problem):
                if case .unreadable = problem { throw CLIError("\(path): \(problem.reason)") }
                return Upload(rejection: problem)
            }
        }) { context, upload in
        let path = context.arguments.positionals[0]
        let configuration = try context.configuration()
        let operatorName = context.callerName
        let content = upload.content
        var rejection = upload.rejection
        let tenant = try context.tenant()
        let store = try context.store()
        if rejection == nil && !tenant.enabled { rejection = .tenantDisabled }
        let fileName = path.split(separator: "/").last.map(String.init) ?? path
        let id = try store.transaction {
            try store.createRequest(tenant: tenant.id, fileName: fileName, configurator: operatorName,
                                    claimName: nil, content: content, rejection: rejection,
                                    rowsTotal: content.map { BulkFile.dataRowCount($0, maxRows: configuration.maxRows) } ?? 0,
                                    now: context.clock.now)
        }
        TenantFolders.ensure(tenant.id, layout: try context.layout())
        try ResultWriter(layout: try context.layout(), store: store,
                         files: ResultFiles(encoding: configuration.resultsEncoding.csv), clock: context.clock.readWall).refresh()
        Wakeup.touch(try context.layout())
        Output.print(id.description)
        if let rejection {
            Output.error("massiva submit: \(id) rejected: \(rejection.reason)")
            return 1
        }
        return 0
    }

    static let list = Command(CommandDeclaration(
        ["list"], summary: "list requests, newest first (the portal's request list)",
        options: [Options.tenant], flags: [Options.csv]), privilege: .spoolOwner) { context in
        let tenant = context.arguments.value("--tenant") != nil ? try context.tenant().id : nil
        let requests = try context.store().requests(tenant: tenant)
        if context.arguments.flag("--csv") {
            let configuration = try context.configuration()
            Output.write(ResultFiles(encoding: configuration.resultsEncoding.csv).requestList(requests, withTenant: tenant == nil))
            return 0
        }
        Output.table(["ID", "TENANT", "FILE", "SUBMITTED", "COMPLETED", "PROGRESS", "ERRORS", "OUTCOME"], requests.map { r in
            [r.id.description, r.tenant, r.fileName, SystemClock.iso8601(r.submittedAt), r.completedAt.map(SystemClock.iso8601) ?? "-",
             "\(r.rowsProcessed)/\(r.rowsTotal)", String(r.rowsFailed), r.outcomeLabel]
        })
        return 0
    }

    static let restoreFlag = FlagDeclaration(
        "--restore", help: "write the request's result folder back into results/ (and richieste.csv) after retention removed it; "
            + "it stays for another result_retention")
    /// The text view of `show`: Figura 13 (POD, NID, SID, TIPO DISPOSITIVO, TIPO CONFIG, SYSTEM
    /// INTEGRATOR, DATA ELABORAZIONE, ESITO, DESCRIZIONE) plus the line, code and attempts.
    static let showHeader = ["LINE", "POD", "NID", "SID", "TIPO DISPOSITIVO", "TIPO CONFIG", "SYSTEM INTEGRATOR",
                             "DATA ELABORAZIONE", "ESITO", "CODE", "TRIES", "DESCRIPTION"]

    static let show = Command(CommandDeclaration(
        ["show"], summary: "show one request and its rows (the portal's request detail)",
        flags: [Options.csv, restoreFlag], positionals: [PositionalDeclaration("REQ", help: "request id, e.g. MOME-000000001")]),
        privilege: .spoolOwner) { context in
        let id = try context.requestID(context.arguments.positionals[0])
        let store = try context.store()
        if context.arguments.flag("--restore") {
            switch try store.restore(id, now: context.clock.now) {
            case .notFound: throw CLIError("no request \(id)")
            case .alreadyPresent: Output.print("\(id): its folder is in results/ already")
            case .restoring:
                // Written here (the folder, then richieste.csv), so the command returns once the
                // SI can download it; a crash meanwhile leaves it stale and the daemon writes it.
                try refreshResults(context)
                Output.print("\(id): folder written back to results/")
            }
            return 0
        }
        guard let request = try store.request(id) else { throw CLIError("no request \(id)") }
        let rows = try store.rows(of: id)
        let tenantName = try store.tenant(request.tenant)?.name ?? request.tenant
        let configuration = try context.configuration()
        if context.arguments.flag("--csv") {
            Output.write(ResultFiles(encoding: configuration.resultsEncoding.csv).esito(request: request, tenantName: tenantName, rows: rows))
            return 0
        }
        Output.print("\(id)  \(request.outcomeLabel)")
        Output.print("tenant: \(request.tenant) (\(tenantName))   file: \(request.fileName)   configurator: \(request.configurator)")
        Output.print("submitted: \(SystemClock.iso8601(request.submittedAt))   completed: \(request.completedAt.map(SystemClock.iso8601) ?? "-")")
        Output.print("rows: \(request.rowsProcessed)/\(request.rowsTotal) processed, \(request.rowsFailed) in error"
                     + (request.status == .processing ? ", next retry \(request.nextDueAt.map(SystemClock.iso8601) ?? "-")" : ""))
        if let note = request.note { Output.print("note: \(note)") }
        if request.resultsState == .retiring || request.resultsState == .removed {
            Output.print("results: removed from results/ by result_retention (massiva show \(id) --restore writes them back)")
        }
        if !rows.isEmpty {
            Output.print()
            // Figura 13's columns (SYSTEM INTEGRATOR there is the person, as here; the company is
            // on the tenant line above), with the line, the code and the attempts besides.
            var time = TimestampCache()
            Output.table(showHeader, rows.map { r in
                [String(r.line), r.pod, r.nid, r.sid, r.deviceType, r.configuration, request.configurator,
                 time.iso8601(r.processedAt), r.code.esito, r.code.rawValue, String(r.attempts), r.description]
            })
        }
        return 0
    }

    static let cancel = Command(CommandDeclaration(
        ["cancel"], summary: "cancel a request that is still queued (exit 1 if it already started)",
        positionals: [PositionalDeclaration("REQ", help: "request id")]), privilege: .spoolOwner) { context in
        let id = try context.requestID(context.arguments.positionals[0])
        let store = try context.store()
        let result = try store.cancel(id, tenant: nil, now: context.clock.now)
        try refreshResults(context)
        Wakeup.touch(try context.layout())
        switch result {
        case .cancelled:
            Output.print("\(id) cancelled")
            return 0
        case .notQueued(let status):
            throw CLIError("\(id) is \(status.rawValue): only a queued request can be cancelled")
        case .notFound:
            throw CLIError("no request \(id)")
        }
    }

    static let flush = Command(CommandDeclaration(
        ["flush"], summary: "make every deferred row due now (like postqueue -f); the daemon retries them at once"),
        privilege: .spoolOwner) { context in
        let n = try context.store().makeDueNow(nil, now: context.clock.now)
        Wakeup.touch(try context.layout())
        Output.print("\(n) waiting row(s) due now")
        return 0
    }

    static let retry = Command(CommandDeclaration(
        ["retry"], summary: "make the deferred rows of one request due now",
        positionals: [PositionalDeclaration("REQ", help: "request id")]), privilege: .spoolOwner) { context in
        let id = try context.requestID(context.arguments.positionals[0])
        guard try context.store().request(id) != nil else { throw CLIError("no request \(id)") }
        let n = try context.store().makeDueNow(id, now: context.clock.now)
        Wakeup.touch(try context.layout())
        Output.print("\(id): \(n) waiting row(s) due now")
        return 0
    }

    static func refreshResults(_ context: CommandContext) throws {
        let configuration = try context.configuration()
        try ResultWriter(layout: try context.layout(), store: try context.store(),
                         files: ResultFiles(encoding: configuration.resultsEncoding.csv), clock: context.clock.readWall).refresh()
    }
}

