import MassivaCSV
import MassivaDomain
import MassivaProcessing
import MassivaSpool
import MassivaSystem

/// `tenant add|disable|enable|list`.
enum TenantCommands {
    static let all: [Command] = [add, disable, enable, list, setPermissions]

    static let add = Command(CommandDeclaration(
        ["tenant", "add"], summary: "add a System Integrator: records it and creates its incoming/ and results/ folders",
        options: [OptionDeclaration("--name", valueName: "NAME", help: "ragione sociale (company name)")],
        positionals: [PositionalDeclaration("ID", help: "tenant id: lower-case letters, digits, - and _, at most 64")]),
        privilege: .root) { context in
        let id = context.arguments.positionals[0]
        let name = try context.arguments.require("--name")
        guard TenantID.isValid(id) else {
            throw CLIError("\"\(id)\" is not a valid tenant id (lower-case letters, digits, - and _, at most 64, starting with a letter or digit)", status: 2)
        }
        guard !name.trimmingWhitespace().isEmpty else { throw CLIError("--name must not be empty", status: 2) }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw CLIError("--name must not contain control characters", status: 2)
        }
        // Root's work (the chroot folder, the tenant's group) and the spool owner's (the
        // database) in one command: keep root, enter the spool as its owner for the database.
        let layout = try context.layout()
        let owner = try context.spoolOwner()
        if owner != nil, !ProcessCredentials.isRoot { throw CLIError("tenant add must run as root on this spool") }
        let store = try context.store()
        if try context.asSpoolOwner({ try store.tenant(id) }) != nil { throw CLIError("tenant \"\(id)\" already exists") }
        // Folders first, then the record: a step that fails undoes the ones before it, so a
        // failed add leaves nothing recorded (a running daemon never sees a tenant without its
        // folders), and running it again starts clean.
        var undo = UndoList()
        do {
            try TenantFolders.create(id, layout: layout, owner: owner, undo: &undo)
            try context.asSpoolOwner { try store.addTenant(id: id, name: name, now: context.clock.now) }
        } catch {
            undo.run()
            if let error = error as? CLIError { throw error }
            throw CLIError("cannot add tenant \"\(id)\": \(error)")
        }
        try context.asSpoolOwner { Wakeup.touch(layout) }
        Output.print("tenant \(id) added: \(layout.tenantDirectory(id))")
        return 0
    }

    static func setEnabled(_ enabled: Bool) -> Command {
        Command(CommandDeclaration(
            ["tenant", enabled ? "enable" : "disable"],
            summary: enabled ? "accept files from a tenant again" : "refuse a tenant's new files (they are rejected, not lost)",
            positionals: [PositionalDeclaration("ID", help: "tenant id")]), privilege: .spoolOwner) { context in
            let id = context.arguments.positionals[0]
            guard try context.store().setTenant(id, enabled: enabled) else { throw CLIError("unknown tenant \"\(id)\"") }
            Output.print("tenant \(id) \(enabled ? "enabled" : "disabled")")
            return 0
        }
    }

    static let disable = setEnabled(false)
    static let enable = setEnabled(true)

    static let list = Command(CommandDeclaration(["tenant", "list"], summary: "list the tenants", flags: [Options.csv]),
        privilege: .spoolOwner) { context in
        let tenants = try context.store().tenants()
        let rows = tenants.map { [$0.id, $0.name, $0.enabled ? "enabled" : "disabled"] }
        Output.rows(["ID", "RAGIONE SOCIALE", "STATO"], rows, csv: context.arguments.flag("--csv"),
                    encoding: try context.configuration().resultsEncoding.csv)
        return 0
    }

    /// Postfix's `postfix set-permissions`: the scheme applied again to every tenant, for a
    /// spool made or changed by hand, or by a release that wrote result files by the umask.
    static let setPermissions = Command(CommandDeclaration(
        ["set-permissions"],
        summary: "apply the permission scheme again (root): every tenant's folders, groups and result files"),
        privilege: .root) { context in
        guard ProcessCredentials.isRoot else { throw CLIError("set-permissions changes owners and groups: run it as root") }
        let layout = try context.layout()
        guard let owner = try context.spoolOwner() else {
            throw CLIError("the spool's private folder is root's (or missing): nothing to apply (create it owned by the daemon's user first)")
        }
        let tenants = try context.asSpoolOwner { try context.store().tenants() }
        var repaired = 0
        for tenant in tenants {
            var undo = UndoList()  // kept: a partial repair is still a repair
            try TenantFolders.create(tenant.id, layout: layout, owner: owner, undo: &undo)
            repaired += try TenantFolders.repairResults(layout.results(tenant.id), owner: owner)
        }
        Output.print("permission scheme applied to \(tenants.count) tenant(s); \(repaired) result entries changed")
        return 0
    }
}
