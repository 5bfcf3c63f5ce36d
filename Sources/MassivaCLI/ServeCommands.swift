import MassivaSpool
import MassivaSystem

/// `serve`: the engine, once (`--once`) or as the daemon.
enum ServeCommands {
    static let all: [Command] = [serve]

    static let serve = Command(CommandDeclaration(
        ["serve"], summary: "process the spool: with --once until nothing more is due now, else as a daemon",
        flags: [FlagDeclaration("--once", help: "take every complete file, process everything due, refresh results, exit")])) { context in
        let log = try context.log()
        let layout = try context.layout()
        let store = try context.store()
        for tenant in try store.tenants() { try TenantCommands.prepareFolders(tenant.id, layout: layout) }
        guard let lock = try FileLock.tryAcquire(layout.lockPath) else {
            throw CLIError("another massiva serve is running on \(layout.root) (pid \(FileLock.recordedPID(layout.lockPath).map(String.init) ?? "?"))")
        }
        defer { try? lock.release() }
        let engine = try context.engine(log: log)
        if context.arguments.flag("--once") {
            try engine.runUntilIdle()
            return 0
        }
        throw CLIError("the daemon is not built yet: use --once")
    }
}
