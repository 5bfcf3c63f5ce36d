import MassivaSpool

/// `backup`, `check`: the database copied while the daemon runs, and the spool checked.
enum MaintenanceCommands {
    static let all: [Command] = [backup, check]

    static let backup = Command(CommandDeclaration(
        ["backup"], summary: "copy the database, consistently, while the daemon runs (SQLite's online backup; on PostgreSQL use pg_dump)",
        flags: [FlagDeclaration("--force", help: "replace FILE if it exists")],
        positionals: [PositionalDeclaration("FILE", help: "the copy to write (made under a temporary name, synced, then renamed)")]),
        privilege: .spoolOwnerWritingCallerFiles) { context in
        let destination = context.arguments.positionals[0]
        let layout = try context.layout()
        do {
            // The copy is the operator's file: written with the caller's rights (see `Privilege`).
            try SpoolMaintenance.backup(layout, database: try context.databaseLocation(), to: destination,
                                        replace: context.arguments.flag("--force"), caller: context.caller)
        } catch let error as SpoolMaintenance.BackupError {
            throw CLIError(error.description)
        } catch let error as SpoolMaintenance.BackupRefused {
            // The configuration's matter (`database` names PostgreSQL), as a bad setting is.
            throw CLIError(error.description, status: 2)
        }
        Output.print("backed up \(layout.databasePath) to \(destination)")
        return 0
    }

    static let check = Command(CommandDeclaration(
        ["check"], summary: "check the database (SQLite's integrity_check) and the spool's invariants; exit 1 listing what is wrong"),
        privilege: .spoolOwner) { context in
        let problems = try SpoolMaintenance.check(try context.layout(), database: try context.databaseLocation())
        for problem in problems { Output.print(problem) }
        if problems.isEmpty { Output.print("OK") }
        return problems.isEmpty ? 0 : 1
    }
}
