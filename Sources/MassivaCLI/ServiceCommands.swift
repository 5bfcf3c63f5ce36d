import MassivaDomain
import MassivaProcessing
import MassivaServices
import MassivaResults
import MassivaSpool
import MassivaStore
import MassivaSystem

/// `search`, `associate`, `dissociate`, `report`, `audit`: the portal's other services.
/// The logic is in MassivaServices (`AssociationServices`); these only parse and print.
enum ServiceCommands {
    static let all: [Command] = [SearchCommand.search, AssociateCommands.associate, AssociateCommands.dissociate,
                                 ReportCommands.report, ReportCommands.audit]

    static let configurator = OptionDeclaration("--configurator", valueName: "NAME",
                                                help: "the configurator acting (default: the current user's login name)")

    /// The exit statuses of the services, for `--help`.
    static let exitStatusText = """
        exit status:
          0  done
          1  other failure (e.g. the SCP file could not be written; the association stands)
          2  usage or bad input: unknown tenant, malformed POD/SID, bad date, production POD not of the exchange POD
          3  POD inserito inesistente
          4  Siamo spiacenti ma al momento la fornitura selezionata non consente l'utilizzo del dispositivo
             MOME/Smart Info (not telemanaged, not eligible, or unreachable now: try again later)
          5  Servizio non disponibile contattare l'assistenza (registry unavailable)
          6  Errore Interno contattare l'assistenza
          7  Errore Generico contattare l'assistenza
          8  refused: an association check failed (device unknown or of another SI, already associated,
             production POD given as exchange POD, ...), tenant disabled, or nothing of this tenant to dissociate
        """

    /// A declaration whose help ends its usage line with the exit statuses.
    static func declaring(_ declaration: CommandDeclaration, exitStatus: String = exitStatusText) -> CommandDeclaration {
        var d = declaration
        d.usage = d.synopsis + "\n\n" + exitStatus
        return d
    }

    static func services(_ context: CommandContext) throws -> AssociationServices {
        let configuration = try context.configuration()
        let store = try context.store()
        let results = ResultWriter(layout: try context.layout(), store: store,
                                   files: ResultFiles(bom: configuration.resultsEncoding != .utf8))
        return AssociationServices(store: store, registry: try context.registry(), results: results,
                                   probe: CommandProbe(configuration, log: try context.log()),
                                   outbox: configuration.associationCommand == nil ? nil : Outbox(database: store.database),
                                   onEvent: { [layout = try context.layout()] in Wakeup.touch(layout) })
    }

    static func files(_ context: CommandContext) throws -> ResultFiles {
        ResultFiles(bom: try context.configuration().resultsEncoding != .utf8)
    }

    static func configuratorName(_ context: CommandContext) -> String {
        context.arguments.value("--configurator") ?? UserName.current
    }

    /// Runs a service, turning its failure into the message and exit status of the table above.
    static func run<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let failure as ServiceFailure {
            throw CLIError(failure.description, status: failure.exitStatus)
        }
    }

    /// `--type`, or `--config` when its value is a configuration type rather than a file.
    static func configurationType(_ context: CommandContext) throws -> String {
        if let type = context.arguments.value("--type") { return type }
        if let value = context.arguments.value("--config"), ConfigurationType(parsing: value) != nil { return value }
        throw CLIError("missing --type Standard|Prosumer", status: 2)
    }
}
