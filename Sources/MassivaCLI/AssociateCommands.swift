import MassivaServices

/// `massiva associate` and `massiva dissociate`: single associations.
enum AssociateCommands {
    static let associate = Command(ServiceCommands.declaring(CommandDeclaration(
        ["associate"], summary: "create one association (same checks as a bulk row) and write its SCP file",
        options: [Options.tenant,
                  OptionDeclaration("--pod", valueName: "POD", help: "the exchange POD"),
                  OptionDeclaration("--sid", valueName: "SID", help: "the 17-character MOME / Smart Info id (not the NID)"),
                  OptionDeclaration("--type", valueName: "TYPE",
                                    help: "Tipo Configurazione: Standard or Prosumer (also accepted as --config Standard|Prosumer)"),
                  OptionDeclaration("--production-pod", valueName: "POD",
                                    help: "Prosumer: the production POD to bind (default: the first alphabetically)"),
                  ServiceCommands.configurator,
                  OptionDeclaration("--out", valueName: "DIR", help: "where <SID>_<POD>.scp is written (default: the current directory)")]))) { context in
        let request = AssociateRequest(
            tenant: try context.arguments.require("--tenant"), pod: try context.arguments.require("--pod"),
            sid: try context.arguments.require("--sid"), configurationType: try ServiceCommands.configurationType(context),
            productionPOD: context.arguments.value("--production-pod"),
            configurator: ServiceCommands.configuratorName(context),
            scpDirectory: context.arguments.value("--out") ?? CommandContext.currentDirectory())
        let services = try ServiceCommands.services(context)
        let result = try ServiceCommands.run { try services.associate(request) }
        let a = result.association, r = result.record
        Output.print("Associazione effettuata: POD \(a.pod) - \(a.deviceType) \(a.sid) (NID \(a.nid))")
        Output.print("tipo configurazione: \(a.configurationType.rawValue)" + (a.productionPOD.map { ", POD di produzione \($0)" } ?? ""))
        Output.print("matricola \(r.matricola), Eneltel \(r.eneltel)"
                     + (r.gesis ? ", GESIS: SI (le letture vanno moltiplicate per il fattore K)" : ""))
        Output.print("configuratore \(a.configurator)")
        for warning in result.warnings { Output.error("massiva associate: warning: \(warning)") }
        if let error = result.scpError {
            Output.error("massiva associate: the association was created but its SCP file \(result.scpPath) could not be written: \(error)")
            return 1
        }
        Output.print("file SCP: \(result.scpPath)")
        return 0
    }

    static let dissociate = Command(ServiceCommands.declaring(CommandDeclaration(
        ["dissociate"], summary: "remove one of the tenant's associations (never another tenant's)",
        options: [Options.tenant, OptionDeclaration("--pod", valueName: "POD", help: "the exchange POD"),
                  ServiceCommands.configurator]))) { context in
        let tenant = try context.arguments.require("--tenant"), pod = try context.arguments.require("--pod")
        let services = try ServiceCommands.services(context)
        let removed = try ServiceCommands.run {
            try services.dissociate(pod: pod, tenant: tenant, configurator: ServiceCommands.configuratorName(context))
        }
        Output.print("Associazione eliminata: POD \(removed.pod) - \(removed.deviceType) \(removed.sid)")
        return 0
    }
}
