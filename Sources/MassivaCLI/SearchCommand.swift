import MassivaCSV
import MassivaServices

/// `massiva search POD --tenant T [--csv]`: Ricerca POD.
enum SearchCommand {
    static let header = ["POD", "TIPO POD", "CODICE FISCALE / PARTITA IVA", "ASSOCIATO", "SID", "TIPO CONFIGURAZIONE",
                         "MATRICOLA", "ENELTEL", "GESIS"]

    static let search = Command(ServiceCommands.declaring(CommandDeclaration(
        ["search"], summary: "Ricerca POD: the exchange POD and its production PODs, associated or not (recorded in the audit trail)",
        options: [Options.tenant, ServiceCommands.configurator, ServiceCommands.account], flags: [Options.csv],
        positionals: [PositionalDeclaration("POD", help: "the POD to search (exchange or production)")])),
        privilege: .spoolOwner) { context in
        let tenant = try context.arguments.require("--tenant")
        let who = try ServiceCommands.configurator(context, tenant: tenant)
        let services = try ServiceCommands.services(context)
        let result = try ServiceCommands.run {
            try services.search(pod: context.arguments.positionals[0], tenant: tenant,
                                configurator: who.name)
        }
        let rows = result.lines.map { line in
            [line.pod, line.meterType == .exchange ? "SCAMBIO (M1)" : "PRODUZIONE (M2)", line.maskedTaxCode, line.associationLabel,
             line.sid ?? "", line.configurationType?.rawValue ?? "", line.matricola, line.eneltel, line.gesis ? "SI" : ""]
        }
        let csv = context.arguments.flag("--csv")
        Output.rows(header, rows, csv: csv, encoding: try ServiceCommands.files(context).encoding)
        if !csv {
            if result.lines.contains(where: \.gesis) {
                Output.print()
                Output.print("GESIS: misuratore semidiretto, le letture vanno moltiplicate per il rapporto dei TA (fattore K)")
            }
        }
        return 0
    }
}
