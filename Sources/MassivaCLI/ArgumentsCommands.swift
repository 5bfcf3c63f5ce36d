// Finding the command among the command words, then parsing its arguments.

/// All commands of a program, and the global options every command accepts.
public struct CommandSet: Sendable {
    /// The program name used in help text: `massiva`.
    public var programName: String
    /// The commands; one may not be a prefix of another's path.
    public var commands: [CommandDeclaration]
    /// Options accepted anywhere, by every command.
    public var globalOptions: [OptionDeclaration]

    /// What a command line asks for.
    public enum Invocation: Sendable, Equatable {
        /// Run `command` with `arguments`. Check `arguments.helpRequested` first.
        case run(CommandDeclaration, ParsedArguments)
        /// Help for the program or a group of commands was asked for: print the text.
        case help(String)
    }

    /// Declares a program's commands.
    public init(programName: String, commands: [CommandDeclaration], globalOptions: [OptionDeclaration] = [.config]) {
        self.programName = programName
        self.commands = commands
        self.globalOptions = globalOptions
    }

    /// Finds the command named by the leading words of `arguments` (the program name excluded),
    /// skipping global options before it, and parses the rest against its declaration.
    ///
    /// The longest declared path wins, so later words become positional arguments.
    /// - Throws: `UsageError` for a missing or unknown command, or from `CommandDeclaration.parse`.
    public func resolve(_ arguments: [String]) throws(UsageError) -> Invocation {
        let globalNames = Set(globalOptions.map(\.name))
        var words: [(index: Int, word: String)] = []
        var helpBeforeCommand = false
        var index = 0
        scan: while index < arguments.count {
            let argument = arguments[index]
            if argument == "-h" || argument == "--help" {
                helpBeforeCommand = true
                break scan
            }
            if argument == "--" { break scan }
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "="),
               globalNames.contains(String(argument[..<equals])) {
                index += 1
                continue
            }
            if looksLikeOption(argument) {
                // A global option and its value may come before the command words; anything else
                // ends them. A missing value is reported by `parse`.
                guard globalNames.contains(argument) else { break scan }
                index += 2
                continue
            }
            words.append((index, argument))
            index += 1
        }
        if !helpBeforeCommand {
            let leading = words.map(\.word)
            let matching = commands.filter { leading.starts(with: $0.path) }
            if let command = matching.max(by: { $0.path.count < $1.path.count }) {
                let used = Set(words.prefix(command.path.count).map(\.index))
                let rest = arguments.indices.filter { !used.contains($0) }.map { arguments[$0] }
                return .run(command, try command.parse(rest, globalOptions: globalOptions))
            }
        }
        // No command: a group (such as `tenant`), nothing, or something unknown.
        let leading = words.map(\.word)
        var group: [String] = []
        for word in leading {
            guard commands.contains(where: { $0.path.starts(with: group + [word]) }) else { break }
            group.append(word)
        }
        let groupIsWhole = group.count == leading.count
        let asksHelp = helpBeforeCommand || arguments.contains("-h") || arguments.contains("--help")
        if asksHelp, groupIsWhole { return .help(helpText(group: group)) }
        if leading.isEmpty { throw UsageError("missing command; run \"\(programName) --help\" for the list") }
        if groupIsWhole {
            let choices = subcommandWords(of: group).joined(separator: ", ")
            throw UsageError("\"\(group.joined(separator: " "))\" needs a subcommand: \(choices)")
        }
        throw UsageError(
            "unknown command \"\(leading.prefix(group.count + 1).joined(separator: " "))\"; "
                + "run \"\(([programName] + group).joined(separator: " ")) --help\" for the list")
    }

    /// The list of commands (all of them, or those under `group`) with their summaries.
    public func helpText(group: [String] = []) -> String {
        let prefix = ([programName] + group).joined(separator: " ")
        var text = "usage: \(prefix) <command> [arguments]\n"
        let listed = commands.filter { $0.path.starts(with: group) }
        let rows = listed.map { ($0.path.joined(separator: " "), $0.summary) }
        let globals = globalOptions.map { ("\($0.name) \($0.valueName)", $0.help) } + [("-h, --help", "show this help")]
        text += renderSections([("commands", rows), ("global options", globals)])
        text += "\nRun \"\(programName) <command> --help\" for a command's options.\n"
        return text
    }

    private func subcommandWords(of group: [String]) -> [String] {
        var seen: [String] = []
        for command in commands where command.path.count > group.count && command.path.starts(with: group) {
            let word = command.path[group.count]
            if !seen.contains(word) { seen.append(word) }
        }
        return seen
    }
}
