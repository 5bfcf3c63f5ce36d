import MassivaConfig
import MassivaDatabase
import MassivaSpool
import MassivaStore
import MassivaSystem

/// `database copy`: the embedded database of a stopped spool copied into an empty PostgreSQL
/// database (issue 20), verified, and what to change in massiva.cf said.
enum DatabaseCommands {
    static let all: [Command] = [copy]

    static let copy = Command(CommandDeclaration(
        ["database", "copy"],
        summary: "copy the stopped spool's embedded database into an empty PostgreSQL database, verify it, say what to set in massiva.cf",
        options: [OptionDeclaration("--to", valueName: "URI",
                                    help: "the empty PostgreSQL database: a libpq URI without a password (postgresql://...; ~/.pgpass keeps it)")]),
        privilege: .spoolOwner) { context in
        let uri = try context.arguments.require("--to")
        let target: DatabaseLocation
        do {
            target = try DatabaseLocation(setting: uri, embeddedPath: "")
        } catch {
            throw CLIError("--to: \(error)", status: 2)
        }
        guard case .postgresql = target else { throw CLIError("--to takes a postgresql:// URI, not \"\(uri)\"", status: 2) }
        let layout = try context.layout()
        if case .postgresql = try context.databaseLocation() {
            throw CLIError("the spool's database is already PostgreSQL (\(try context.databaseLocation()) in massiva.cf): "
                           + "database copy copies the embedded \(layout.databasePath); remove the database setting to copy it", status: 2)
        }
        guard FileSystem.exists(layout.databasePath) else { throw CLIError("no database at \(layout.databasePath)") }
        // The daemon's own lock, held for the whole copy: a running serve is refused here, and
        // one started meanwhile stops at once ("another massiva serve is running"), so nothing
        // is written to the spool that the copy would miss. A daemon with a node name of its own
        // locks another file: any of them held refuses the copy too.
        guard let lock = try FileLock.tryAcquire(layout.lockPath) else { throw daemonRunning(layout, lockPath: layout.lockPath) }
        defer { try? lock.release() }
        let others = ((try? FileSystem.listDirectory(layout.privateDirectory)) ?? [])
            .filter { $0.hasPrefix("massiva-") && $0.hasSuffix(".lock") }.map { layout.privateDirectory + "/" + $0 }
        if let held = try others.first(where: { try FileLock.isHeld($0) }) { throw daemonRunning(layout, lockPath: held) }

        let source = try Schema.open(path: layout.databasePath)
        // Out of reach: `DatabaseUnavailableError`, said as `massiva: database URI: ...`, exit 2.
        let destination = try Database.connect(target)
        let tallies: [DatabaseCopy.TableTally]
        do {
            tallies = try DatabaseCopy(from: source, to: destination).run { step in
                Output.error("massiva database copy: \(step)")
            }
        } catch let error as DatabaseCopyError {
            if case .targetNotEmpty = error { throw CLIError(error.description, status: 2) }
            throw CLIError(error.description)
        }
        Output.print("copied \(layout.databasePath) into \(target), verified:")
        Output.table(["table", "rows", "sha-256"], tallies.map { [$0.table, String($0.rows), $0.checksum] })
        let file = resolveConfigurationPath(argument: context.configurationFileArgument, environment: context.environment,
                                            defaultPath: context.defaultConfigurationPath) ?? "massiva.cf"
        Output.print("")
        Output.print("To move the spool onto it, set in \(file):")
        Output.print("")
        Output.print("    database = \(target)")
        Output.print("")
        Output.print("and start massiva serve. \(layout.databasePath) stays as it was copied: a backup, and the way back")
        Output.print("(remove the setting), without what is done on PostgreSQL from then on.")
        return 0
    }

    static func daemonRunning(_ layout: SpoolLayout, lockPath: String) -> CLIError {
        CLIError("massiva serve is running on \(layout.root) (pid \(FileLock.recordedPID(lockPath).map(String.init) ?? "?"), "
                 + "\(lockPath)): stop it first (systemctl stop massiva); the copy is of a stopped spool")
    }
}
