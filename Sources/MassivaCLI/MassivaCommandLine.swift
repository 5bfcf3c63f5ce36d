import MassivaDatabase
import MassivaStore
import MassivaSystem

/// The `massiva` program: finds the subcommand, parses its arguments, runs it (`Command.run`:
/// its caller step, the one identity switch its `Privilege` calls for, then the rest).
///
/// Exit status: 0 success, 1 the command failed (message on stderr), 2 usage or configuration
/// error (also a PostgreSQL database that cannot be reached: `massiva: database URI: libpq's
/// message`), 65 the spool's database was written by a newer release (`SchemaError.exitStatus`);
/// some commands define more (see their `--help`).
public enum MassivaCommandLine {
    public static let commands: [Command] =
        OperatorCommands.all + MaintenanceCommands.all + DatabaseCommands.all + TenantCommands.all + AccountCommands.all + RequestCommands.all + ServeCommands.all + ServiceCommands.all

    /// Runs the command `argv` names. `clock` is the time of everything it does: the system's
    /// for the `massiva` program, a fake one in tests.
    public static func main(_ argv: [String], environment: [String: String] = currentEnvironment(), clock: Clock) -> Int32 {
        // `--config PATH` may also come before the command words: move it behind them.
        var words = Array(argv.dropFirst())
        var leading: [String] = []
        while let first = words.first, first == "--config" || first.hasPrefix("--config=") {
            leading.append(words.removeFirst())
            if first == "--config", let value = words.first {
                leading.append(value)
                words.removeFirst()
            }
        }
        if leading.last == "--config" {
            // `massiva --config` alone is a usage error, not a request for the overview.
            Output.error("massiva: missing value for --config; see massiva --help")
            return 2
        }
        if words == ["--version"] {
            Output.print("massiva \(MassivaVersion.version)")
            Output.flush()
            return 0
        }
        guard let command = commands.filter({ Array(words.prefix($0.declaration.path.count)) == $0.declaration.path })
            .max(by: { $0.declaration.path.count < $1.declaration.path.count }) else {
            // A group's name alone (`massiva tenant`): say which subcommands it has.
            if let group = words.first, !group.hasPrefix("-"), words.count == 1 || words.dropFirst().allSatisfy({ $0.hasPrefix("-") }) {
                let subcommands = commands.filter { $0.declaration.path.count > 1 && $0.declaration.path[0] == group }
                if !subcommands.isEmpty {
                    let listing = subcommands.map { "massiva " + $0.declaration.path.joined(separator: " ") }.joined(separator: ", ")
                    if words.contains("--help") || words.contains("-h") {
                        Output.print("massiva \(group) has the commands \(listing); each takes --help")
                        Output.flush()
                        return 0
                    }
                    Output.error("massiva \(group): which one? \(listing) (see massiva --help)")
                    return 2
                }
            }
            if words.isEmpty || words == ["--help"] || words == ["-h"] || words == ["help"] {
                Output.print(overview())
                Output.flush()
                return words.isEmpty ? 2 : 0
            }
            Output.error("massiva: unknown command \"\(words.prefix(2).joined(separator: " "))\"; see massiva --help")
            return 2
        }
        let name = "massiva " + command.declaration.path.joined(separator: " ")
        do {
            let parsed = try command.declaration.parse(Array(words.dropFirst(command.declaration.path.count)) + leading,
                                                       globalOptions: [.config])
            if parsed.helpRequested {
                Output.print(command.declaration.helpText(commandPath: name, globalOptions: [.config]))
                Output.flush()
                return 0
            }
            let status = try command.run(CommandContext(arguments: parsed, environment: environment, clock: clock))
            Output.flush()
            return status
        } catch let error as UsageError {
            Output.error("\(name): \(error.message) (see \(name) --help)")
            return 2
        } catch let error as CLIError {
            Output.error("\(name): \(error.message)")
            return error.status
        } catch let error as DatabaseUnavailableError {
            // Not this command's failure but the configured database's, said as massiva's own
            // start-up errors are (issue 20: `massiva: database postgresql://...: <libpq's
            // message>`), and a configuration error's status: nothing was done.
            Output.error("massiva: \(error)")
            return 2
        } catch let error as SchemaError {
            // A database of a newer release: its own status, so that systemd (which does not
            // restart the daemon on it) and scripts can tell it from other failures.
            Output.error("\(name): \(error)")
            return SchemaError.exitStatus
        } catch {
            Output.error("\(name): \(error)")
            return 1
        }
    }

    static func overview() -> String {
        var lines = ["usage: massiva <command> [options]   (--config PATH or MASSIVA_CONFIG selects the configuration; default /etc/massiva/massiva.cf if it exists)", "", "commands:"]
        let width = commands.map { $0.declaration.path.joined(separator: " ").count }.max() ?? 0
        for command in commands {
            let path = command.declaration.path.joined(separator: " ")
            lines.append("  " + path + String(repeating: " ", count: width - path.count + 2) + command.declaration.summary)
        }
        lines.append("")
        lines.append("massiva <command> --help describes one command; massiva --version prints the version.")
        return lines.joined(separator: "\n")
    }

    public static func currentEnvironment() -> [String: String] { CurrentProcess.environment }
}
