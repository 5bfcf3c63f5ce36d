/// A subcommand: its declaration (for parsing and `--help`) and what it does.
public struct Command: Sendable {
    public let declaration: CommandDeclaration
    public let run: @Sendable (CommandContext) throws -> Int32

    public init(_ declaration: CommandDeclaration, run: @escaping @Sendable (CommandContext) throws -> Int32) {
        self.declaration = declaration
        self.run = run
    }
}

/// Options shared by several commands.
enum Options {
    static let tenant = OptionDeclaration("--tenant", valueName: "TENANT", help: "the tenant (System Integrator) id")
    static let csv = FlagDeclaration("--csv", help: "print CSV (as the result files: ';', CRLF, in results_encoding)")
}
