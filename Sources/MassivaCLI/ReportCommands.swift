import MassivaCSV
import MassivaServices
import MassivaResults
import MassivaSpool
import MassivaStore
import MassivaSystem

/// `massiva report` (Report associazioni) and `massiva audit` (the GDPR trail).
enum ReportCommands {
    static let from = OptionDeclaration("--from", valueName: "DATE", help: "from this local day, inclusive (YYYY-MM-DD)")
    static let to = OptionDeclaration("--to", valueName: "DATE", help: "to this local day, inclusive (YYYY-MM-DD)")

    static let readExitStatus = """
        exit status: 0 done, 1 failure, 2 usage or bad input (unknown tenant, bad date, report with no filter and no --all)
        """

    static let report = Command(ServiceCommands.declaring(CommandDeclaration(
        ["report"], summary: "Report associazioni: the active associations of a tenant (or of all), filtered",
        usage: nil,
        options: [Options.tenant,
                  OptionDeclaration("--pod", valueName: "POD", help: "only this POD (exchange or production)"),
                  OptionDeclaration("--sid", valueName: "SID", help: "only this device"),
                  OptionDeclaration("--nid", valueName: "NID", help: "only this NID"),
                  OptionDeclaration("--configurator", valueName: "NAME", help: "configurator's name contains NAME (any case)"),
                  OptionDeclaration("--given-name", valueName: "NOME", help: "Nome Configuratore contains NOME (any case)"),
                  OptionDeclaration("--surname", valueName: "COGNOME", help: "Cognome Configuratore contains COGNOME (any case)"),
                  from, to],
        flags: [FlagDeclaration("--all-tenants", help: "every tenant (operator); exclusive with --tenant"),
                FlagDeclaration("--all", help: "no filter: every association (at least one filter is required otherwise, as in the portal)"),
                Options.csv]),
        exitStatus: readExitStatus), privilege: .spoolOwner) { context in
        let tenant = context.arguments.value("--tenant"), all = context.arguments.flag("--all-tenants")
        guard (tenant != nil) != all else { throw CLIError("give exactly one of --tenant T and --all-tenants", status: 2) }
        let services = try ServiceCommands.services(context)
        let rows = try ServiceCommands.run {
            let dates = try DateRange.parse(from: context.arguments.value("--from"), to: context.arguments.value("--to"))
            return try services.report(ReportFilter(
                tenant: tenant, pod: context.arguments.value("--pod"), sid: context.arguments.value("--sid"),
                nid: context.arguments.value("--nid"), configurator: context.arguments.value("--configurator"),
                givenName: context.arguments.value("--given-name"), surname: context.arguments.value("--surname"),
                dates: dates, all: context.arguments.flag("--all")), configurator: context.callerName)
        }
        if context.arguments.flag("--csv") {
            Output.write(try ServiceCommands.files(context).associationList(rows))
        } else {
            Output.table(ResultFiles.associationListHeader, rows.map(\.cells))
        }
        return 0
    }

    static let auditHeader = ["DATA", "DITTA", "CONFIGURATORE", "AZIONE", "POD", "SID", "RICHIESTA", "ESITO", "DETTAGLIO"]

    static let audit = Command(ServiceCommands.declaring(CommandDeclaration(
        ["audit"], summary: "the audit trail (GDPR): every search, association, dissociation and bulk-row decision; read-only",
        options: [Options.tenant, OptionDeclaration("--pod", valueName: "POD", help: "only this POD"), from, to],
        flags: [Options.csv]), exitStatus: readExitStatus), privilege: .spoolOwner) { context in
        let services = try ServiceCommands.services(context)
        let entries = try ServiceCommands.run {
            let dates = try DateRange.parse(from: context.arguments.value("--from"), to: context.arguments.value("--to"))
            return try services.auditEntries(tenant: context.arguments.value("--tenant"), pod: context.arguments.value("--pod"), dates: dates)
        }
        let rows = entries.map { e in
            [SystemClock.iso8601(e.at), e.tenant, e.configurator, e.action.rawValue, e.pod, e.sid, e.request ?? "", e.outcome, e.detail]
        }
        Output.rows(auditHeader, rows, csv: context.arguments.flag("--csv"), encoding: try ServiceCommands.files(context).encoding)
        return 0
    }
}
