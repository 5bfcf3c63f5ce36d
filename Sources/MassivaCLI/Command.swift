/// A subcommand: its declaration (for parsing and `--help`), what it needs of the process's
/// identity, and what it does.
public struct Command: Sendable {
    public let declaration: CommandDeclaration
    /// What it needs of the process's identity (see `Privilege`): `MassivaCommandLine.main`
    /// switches once, after `start` and before the rest of the command runs.
    public let privilege: Privilege
    /// The command's first step, run as the caller before the identity switch: it reads or
    /// opens the files named on the command line and returns the rest of the command.
    let start: @Sendable (CommandContext) throws -> (CommandContext) throws -> Int32

    /// A command that names no file of the operator's to read.
    public init(_ declaration: CommandDeclaration, privilege: Privilege,
                run: @escaping @Sendable (CommandContext) throws -> Int32) {
        self.declaration = declaration
        self.privilege = privilege
        self.start = { _ in run }
    }

    /// A command that reads files named on its command line: `callerFiles` reads or opens them
    /// with the caller's rights, before the switch (a file in root's 0700 folder is root's to
    /// read, not the spool owner's), and `run` gets what it returned.
    public init<Files>(_ declaration: CommandDeclaration, privilege: Privilege,
                       callerFiles: @escaping @Sendable (CommandContext) throws -> Files,
                       run: @escaping @Sendable (CommandContext, Files) throws -> Int32) {
        self.declaration = declaration
        self.privilege = privilege
        self.start = { context in
            let files = try callerFiles(context)
            return { context in try run(context, files) }
        }
    }

    /// Runs the command: its caller step, the one identity switch, then the rest.
    func run(_ context: CommandContext) throws -> Int32 {
        let rest = try start(context)
        try context.enter(privilege)
        return try rest(context)
    }
}

/// Options shared by several commands.
enum Options {
    static let tenant = OptionDeclaration("--tenant", valueName: "TENANT", help: "the tenant (System Integrator) id")
    static let csv = FlagDeclaration("--csv", help: "print CSV (as the result files: ';', CRLF, in results_encoding)")
}
