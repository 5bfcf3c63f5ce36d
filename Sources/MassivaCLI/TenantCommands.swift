import MassivaCSV
import MassivaDomain
import MassivaSpool
import MassivaSystem

/// `tenant add|disable|enable|list`.
enum TenantCommands {
    static let all: [Command] = [add, disable, enable, list]

    static let add = Command(CommandDeclaration(
        ["tenant", "add"], summary: "add a System Integrator: records it and creates its incoming/ and results/ folders",
        options: [OptionDeclaration("--name", valueName: "NAME", help: "ragione sociale (company name)")],
        positionals: [PositionalDeclaration("ID", help: "tenant id: lower-case letters, digits, - and _, at most 64")])) { context in
        let id = context.arguments.positionals[0]
        let name = try context.arguments.require("--name")
        guard TenantID.isValid(id) else {
            throw CLIError("\"\(id)\" is not a valid tenant id (lower-case letters, digits, - and _, at most 64, starting with a letter or digit)", status: 2)
        }
        guard !name.trimmingWhitespace().isEmpty else { throw CLIError("--name must not be empty", status: 2) }
        let store = try context.store()
        if try store.tenant(id) != nil { throw CLIError("tenant \"\(id)\" already exists") }
        // Recorded first, then its folders: a running daemon that sees the folder appear finds
        // the tenant already there (and the wakeup makes sure it looks).
        try store.addTenant(id: id, name: name, now: SystemClock.now)
        try prepareFolders(id, layout: try context.layout())
        Wakeup.touch(try context.layout())
        Output.print("tenant \(id) added: \(try context.layout().tenantDirectory(id))")
        return 0
    }

    /// The tenant's folders, public and private; idempotent.
    static func prepareFolders(_ id: String, layout: SpoolLayout) throws {
        for directory in [layout.incoming(id), layout.results(id), layout.claimDirectory(id), layout.refusedDirectory(id)] {
            try FileSystem.makeDirectory(directory, intermediate: true)
        }
    }

    static func setEnabled(_ enabled: Bool) -> Command {
        Command(CommandDeclaration(
            ["tenant", enabled ? "enable" : "disable"],
            summary: enabled ? "accept files from a tenant again" : "refuse a tenant's new files (they are rejected, not lost)",
            positionals: [PositionalDeclaration("ID", help: "tenant id")])) { context in
            let id = context.arguments.positionals[0]
            guard try context.store().setTenant(id, enabled: enabled) else { throw CLIError("unknown tenant \"\(id)\"") }
            Output.print("tenant \(id) \(enabled ? "enabled" : "disabled")")
            return 0
        }
    }

    static let disable = setEnabled(false)
    static let enable = setEnabled(true)

    static let list = Command(CommandDeclaration(["tenant", "list"], summary: "list the tenants", flags: [Options.csv])) { context in
        let tenants = try context.store().tenants()
        let rows = tenants.map { [$0.id, $0.name, $0.enabled ? "enabled" : "disabled"] }
        Output.rows(["ID", "RAGIONE SOCIALE", "STATO"], rows, csv: context.arguments.flag("--csv"))
        return 0
    }
}
