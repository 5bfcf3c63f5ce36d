import Testing
import MassivaCLI

/// The declarative argument parser of the subcommands.
@Suite struct ArgumentParserTests {
    static let report = CommandDeclaration(
        ["report"], summary: "s",
        options: [OptionDeclaration("--tenant", valueName: "T", help: ""), OptionDeclaration("--from", valueName: "DATE", help: "")],
        flags: [FlagDeclaration("--csv", help: "")])
    static let validate = CommandDeclaration(
        ["validate"], summary: "s", positionals: [PositionalDeclaration("FILE", minimum: 1, maximum: nil, help: "")])
    static let copy = CommandDeclaration(
        ["copy"], summary: "s",
        positionals: [PositionalDeclaration("SOURCE", minimum: 1, maximum: nil, help: ""), PositionalDeclaration("DEST", help: "")])

    func parse(_ d: CommandDeclaration, _ arguments: [String]) throws(UsageError) -> ParsedArguments {
        try d.parse(arguments, globalOptions: [.config])
    }

    func usage(_ d: CommandDeclaration, _ arguments: [String]) -> String? {
        do { _ = try parse(d, arguments); return nil } catch { return error.message }
    }

    @Test func optionsFlagsAndTheGlobalConfig() throws {
        let a = try parse(Self.report, ["--tenant", "acme", "--csv", "--config=/etc/m.cf", "--from", "2025-01-01"])
        #expect(a.value("--tenant") == "acme" && a.value("--from") == "2025-01-01" && a.value("--config") == "/etc/m.cf")
        #expect(a.flag("--csv") && !a.helpRequested && a.positionals.isEmpty)
        let b = try parse(Self.report, ["--tenant=acme"])
        #expect(b.value("--tenant") == "acme" && !b.flag("--csv") && b.value("--from") == nil)
        #expect(throws: UsageError("missing required option --from")) { try b.require("--from") }
    }

    @Test func aValueBeginningWithADashMustBeInline() throws {
        #expect(usage(Self.report, ["--tenant", "-x"]) == "missing value for --tenant")
        #expect(try parse(Self.report, ["--tenant=-x"]).value("--tenant") == "-x")
        #expect(try parse(Self.report, ["--tenant", "-"]).value("--tenant") == "-")  // a lone dash is a value
        #expect(usage(Self.report, ["--tenant"]) == "missing value for --tenant")
    }

    @Test func whatDoesNotFitTheDeclaration() {
        #expect(usage(Self.report, ["--tenant", "a", "--tenant", "b"]) == "option --tenant given more than once")
        #expect(usage(Self.report, ["--csv=yes"]) == "flag --csv does not take a value")
        #expect(usage(Self.report, ["--nope"]) == "unknown option --nope")
        #expect(usage(Self.report, ["extra"]) == "unexpected argument \"extra\" (this command takes no arguments)")
        #expect(usage(Self.validate, []) == "missing argument <FILE>")
    }

    @Test func positionalsAndTheDoubleDash() throws {
        let a = try parse(Self.validate, ["a.csv", "--", "--b.csv", "-"])
        #expect(a.positionals == ["a.csv", "--b.csv", "-"])
        #expect(a.positionals(named: "FILE") == ["a.csv", "--b.csv", "-"])
        // Earlier groups take as many as they may, leaving the later minimums.
        let c = try parse(Self.copy, ["x", "y", "z"])
        #expect(c.positionals(named: "SOURCE") == ["x", "y"] && c.positionals(named: "DEST") == ["z"])
        #expect(usage(Self.copy, ["x"]) == "missing argument <DEST>")
    }

    /// Help skips the positional counts: `massiva validate --help` works without a file.
    @Test func helpIsAskedForAnywhere() throws {
        #expect(try parse(Self.validate, ["--help"]).helpRequested)
        #expect(try parse(Self.report, ["--csv", "-h"]).helpRequested)
        #expect(try parse(Self.validate, ["--help"]).positionals(named: "FILE").isEmpty)
    }
}
