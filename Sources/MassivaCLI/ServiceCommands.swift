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
                                 AssociateCommands.scp, ReportCommands.report, ReportCommands.audit]

    static let configurator = OptionDeclaration("--configurator", valueName: "NAME",
                                                help: "the configurator acting, a name as typed (default: the current user, see --account)")
    static let account = OptionDeclaration("--account", valueName: "LOGIN",
                                           help: "the SI account acting: its person (Nome, Cognome) is recorded; an account of --tenant only")

    /// Who acts: `--account LOGIN` (one of the tenant's accounts: its person), `--configurator
    /// NAME` (a name as typed, no Nome/Cognome), or by default the current user, whose person is
    /// recorded when the login is one of the tenant's accounts, as for an upload.
    static func configurator(_ context: CommandContext, tenant: String) throws -> ConfiguratorIdentity {
        let login = context.arguments.value("--account"), name = context.arguments.value("--configurator")
        if login != nil && name != nil { throw CLIError("give --account or --configurator, not both", status: 2) }
        if let name {
            // Recorded in the audit trail and shown in associazioni.csv: a person's name, never
            // a line break or an escape sequence.
            guard !name.isEmpty, name.utf8.count <= 200,
                  !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw CLIError("--configurator must be a name: not empty, at most 200 bytes, no control characters", status: 2)
            }
            return ConfiguratorIdentity(name: name)
        }
        let store = try context.store()
        // The caller's login, read before the command took the spool owner's identity.
        guard let login else { return try store.configurator(login: context.callerName, tenant: tenant) }
        // Another tenant's account is refused like an unknown one: its tenant is not said.
        guard let account = try store.account(login: login), account.tenant == tenant else {
            throw CLIError("\"\(login)\" is not an SI account of tenant \(tenant) (see massiva account list --tenant \(tenant))", status: 2)
        }
        return ConfiguratorIdentity(name: account.name, person: account.person)
    }

    /// The single form's "System Integrator: Ragione Sociale, Cognome, Nome" (Figure 4/5).
    static func systemIntegratorLine(tenantName: String, association a: Association) -> String {
        let p = a.configuratorPerson
        return "System Integrator: \(tenantName)" + (p.isKnown ? ", Cognome \(p.surname), Nome \(p.givenName)" : "")
            + " (configuratore \(a.configurator))"
    }

    /// A declaration whose help ends its usage line with the exit statuses.
    static func declaring(_ declaration: CommandDeclaration, exitStatus: String = ServiceFailure.exitStatusText) -> CommandDeclaration {
        var d = declaration
        d.usage = d.synopsis + "\n\n" + exitStatus
        return d
    }

    static func services(_ context: CommandContext) throws -> AssociationServices {
        let configuration = try context.configuration()
        let store = try context.store()
        let results = ResultWriter(layout: try context.layout(), store: store,
                                   files: ResultFiles(encoding: configuration.resultsEncoding.csv), clock: context.clock.readWall)
        return AssociationServices(store: store, registry: try context.registry(), results: results, clock: context.clock.readWall,
                                   probe: CommandProbe(configuration, log: try context.log()),
                                   outbox: configuration.associationCommand == nil ? nil : store.outbox(),
                                   onEvent: { [layout = try context.layout()] in Wakeup.touch(layout) },
                                   caller: context.caller)
    }

    static func files(_ context: CommandContext) throws -> ResultFiles {
        ResultFiles(encoding: try context.configuration().resultsEncoding.csv)
    }

    /// Runs a service, turning its failure into the command line's message and exit status
    /// (`ServiceFailure.exitStatus`).
    static func run<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let failure as ServiceFailure {
            throw CLIError(failure.commandLineMessage, status: failure.exitStatus)
        }
    }

    /// `--type`, or `--config` when its value is a configuration type rather than a file.
    static func configurationType(_ context: CommandContext) throws -> String {
        if let type = context.arguments.value("--type") { return type }
        if let value = context.arguments.value("--config"), ConfigurationType(parsing: value) != nil { return value }
        throw CLIError("missing --type Standard|Prosumer", status: 2)
    }
}
