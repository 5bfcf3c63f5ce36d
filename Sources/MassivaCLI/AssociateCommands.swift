import MassivaDomain
import MassivaServices
import MassivaStore

/// `massiva associate`, `massiva dissociate` and `massiva scp`: single associations.
enum AssociateCommands {
    static let associate = Command(ServiceCommands.declaring(CommandDeclaration(
        ["associate"], summary: "create one association (same checks as a bulk row) and write its SCP file",
        options: [Options.tenant,
                  OptionDeclaration("--pod", valueName: "POD", help: "the exchange POD"),
                  OptionDeclaration("--sid", valueName: "SID", help: "the 17-character MOME / Smart Info id (ID dispositivo)"),
                  OptionDeclaration("--nid", valueName: "NID",
                                    help: "the device's 12-hex-character NID, instead of --sid or with it (then the same device)"),
                  OptionDeclaration("--device-type", valueName: "TYPE",
                                    help: "Tipo Dispositivo, MOME or \"Smart Info\": when given, the device must be of that type"),
                  OptionDeclaration("--type", valueName: "TYPE",
                                    help: "Tipo Configurazione: Standard or Prosumer (also accepted as --config Standard|Prosumer)"),
                  OptionDeclaration("--production-pod", valueName: "POD",
                                    help: "Prosumer: the production POD to bind (default: the first alphabetically)"),
                  ServiceCommands.configurator, ServiceCommands.account,
                  OptionDeclaration("--out", valueName: "DIR",
                                    help: "where <SID>_<POD>.scp is written before the association commits (default: the current directory)")])),
        privilege: .spoolOwnerWritingCallerFiles) { context in
        let tenant = try context.arguments.require("--tenant")
        let sid = context.arguments.value("--sid"), nid = context.arguments.value("--nid")
        guard sid != nil || nid != nil else { throw CLIError("missing --sid SID or --nid NID", status: 2) }
        let configurationType = try ServiceCommands.configurationType(context)
        let pod = try context.arguments.require("--pod")
        let who = try ServiceCommands.configurator(context, tenant: tenant)
        let request = AssociateRequest(
            tenant: tenant, pod: pod, sid: sid, nid: nid, deviceType: context.arguments.value("--device-type"),
            configurationType: configurationType,
            productionPOD: context.arguments.value("--production-pod"),
            configurator: who.name, person: who.person,
            scpDirectory: context.arguments.value("--out") ?? CommandContext.currentDirectory())
        let services = try ServiceCommands.services(context)
        let result = try ServiceCommands.run { try services.associate(request) }
        let a = result.association, r = result.record
        Output.print("Associazione effettuata: POD \(a.pod) - \(a.deviceType) \(a.sid) (NID \(a.nid))")
        Output.print("tipo configurazione: \(a.configurationType.rawValue)" + (a.productionPOD.map { ", POD di produzione \($0)" } ?? ""))
        Output.print("matricola \(r.matricola), Eneltel \(r.eneltel)"
                     + (r.gesis ? ", GESIS: SI (le letture vanno moltiplicate per il fattore K)" : ""))
        Output.print(ServiceCommands.systemIntegratorLine(tenantName: result.tenantName, association: a))
        for warning in result.warnings { Output.error("massiva associate: warning: \(warning)") }
        Output.print("file SCP: \(result.scpPath)")
        Output.print("di nuovo in ogni momento: massiva scp --tenant \(a.tenant) --pod \(a.pod)")
        return 0
    }

    static let dissociate = Command(ServiceCommands.declaring(CommandDeclaration(
        ["dissociate"], summary: "remove one of the tenant's associations (never another tenant's)",
        options: [Options.tenant, OptionDeclaration("--pod", valueName: "POD", help: "the exchange POD"),
                  ServiceCommands.configurator, ServiceCommands.account])), privilege: .spoolOwner) { context in
        let tenant = try context.arguments.require("--tenant"), pod = try context.arguments.require("--pod")
        let who = try ServiceCommands.configurator(context, tenant: tenant)
        let services = try ServiceCommands.services(context)
        let removed = try ServiceCommands.run {
            try services.dissociate(pod: pod, tenant: tenant, configurator: who.name)
        }
        Output.print("Associazione eliminata: POD \(removed.pod) - \(removed.deviceType) \(removed.sid)")
        return 0
    }

    /// "Scarica file di configurazione" (Figure 5 and 7): the SCP of an existing association.
    static let scp = Command(ServiceCommands.declaring(CommandDeclaration(
        ["scp"], summary: "write again the SCP file of one of the tenant's associations (Scarica file di configurazione)",
        options: [Options.tenant,
                  OptionDeclaration("--pod", valueName: "POD", help: "the association's exchange POD (or its production POD)"),
                  ServiceCommands.configurator, ServiceCommands.account,
                  OptionDeclaration("--out", valueName: "DIR", help: "where <SID>_<POD>.scp is written (default: the current directory)")])),
        privilege: .spoolOwnerWritingCallerFiles) { context in
        let tenant = try context.arguments.require("--tenant"), pod = try context.arguments.require("--pod")
        let who = try ServiceCommands.configurator(context, tenant: tenant)
        let directory = context.arguments.value("--out") ?? CommandContext.currentDirectory()
        let services = try ServiceCommands.services(context)
        let download = try ServiceCommands.run {
            try services.scp(pod: pod, tenant: tenant, configurator: who.name, directory: directory)
        }
        let a = download.association
        Output.print("POD \(a.pod) - \(a.deviceType) \(a.sid) (NID \(a.nid)), \(a.configurationType.rawValue)"
                     + (a.productionPOD.map { ", POD di produzione \($0)" } ?? ""))
        Output.print(ServiceCommands.systemIntegratorLine(tenantName: download.tenantName, association: a))
        Output.print("file SCP: \(download.path)")
        return 0
    }
}
