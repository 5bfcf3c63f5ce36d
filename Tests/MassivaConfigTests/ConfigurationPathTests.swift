import Glibc
import MassivaCLI
import MassivaConfig
import MassivaTestSupport
import Testing

/// Which configuration file is read: `--config`, else `MASSIVA_CONFIG`, else the package's
/// `/etc/massiva/massiva.cf` when it exists, else the built-in defaults. The default path is
/// injected (a real file in a scratch folder) so the host's own `/etc` plays no part.
@Suite struct ConfigurationPathTests {
    @Test func theOrderIsArgumentThenEnvironmentThenDefaultFileThenNone() {
        let present: (String) -> Bool = { _ in true }
        let absent: (String) -> Bool = { _ in false }
        let environment = ["MASSIVA_CONFIG": "/env.cf"]
        #expect(resolveConfigurationPath(argument: "/arg.cf", environment: environment, defaultPath: "/def.cf", exists: present) == "/arg.cf")
        #expect(resolveConfigurationPath(argument: nil, environment: environment, defaultPath: "/def.cf", exists: present) == "/env.cf")
        // An empty MASSIVA_CONFIG counts as unset (as a shell's `MASSIVA_CONFIG= massiva ...`).
        #expect(resolveConfigurationPath(argument: nil, environment: ["MASSIVA_CONFIG": ""], defaultPath: "/def.cf", exists: present) == "/def.cf")
        #expect(resolveConfigurationPath(argument: nil, environment: [:], defaultPath: "/def.cf", exists: present) == "/def.cf")
        #expect(resolveConfigurationPath(argument: nil, environment: [:], defaultPath: "/def.cf", exists: absent) == nil)
        // A missing default file does not hide an explicit choice either.
        #expect(resolveConfigurationPath(argument: nil, environment: environment, defaultPath: "/def.cf", exists: absent) == "/env.cf")
    }

    @Test func thePackagedPathIsTheDefault() {
        #expect(defaultConfigurationPath == "/etc/massiva/massiva.cf")
    }

    /// Through the commands' context, with real files: the default file is read when present,
    /// and the SIGHUP reload (`reloadConfiguration`) follows the same rule, so a default file
    /// created after start is picked up by the next reload, and one removed falls back.
    @Test func theCommandContextReadsTheDefaultFileAndReloadsByTheSameRule() throws {
        let scratch = try ScratchFolder()
        defer { scratch.remove() }
        let defaultPath = scratch.path + "/massiva.cf"
        let context = CommandContext(arguments: try arguments(), environment: [:], clock: FakeClock(0).clock, defaultConfigurationPath: defaultPath)

        #expect(try context.configuration().spoolDirectory.hasSuffix("/spool"))
        try scratch.write("massiva.cf", "spool_directory = /srv/from-default\nmax_rows = 7\n")
        let reloaded = try context.reloadConfiguration()
        #expect(reloaded.spoolDirectory == "/srv/from-default")
        #expect(reloaded.maxRows == 7)

        try scratch.write("other.cf", "spool_directory = /srv/from-environment\n")
        let fromEnvironment = CommandContext(arguments: try arguments(), environment: ["MASSIVA_CONFIG": scratch.path + "/other.cf"],
                                             clock: FakeClock(0).clock, defaultConfigurationPath: defaultPath)
        #expect(try fromEnvironment.configuration().spoolDirectory == "/srv/from-environment")
        let fromArgument = CommandContext(arguments: try arguments(["--config", scratch.path + "/other.cf"]), environment: [:],
                                          clock: FakeClock(0).clock, defaultConfigurationPath: defaultPath)
        #expect(try fromArgument.configuration().spoolDirectory == "/srv/from-environment")

        unlink(defaultPath)
        #expect(try context.reloadConfiguration().spoolDirectory != "/srv/from-default")
    }

    private func arguments(_ words: [String] = []) throws -> ParsedArguments {
        try CommandDeclaration(["config"], summary: "test").parse(words, globalOptions: [.config])
    }
}

/// A folder under /tmp, removed with the files in it (no subfolders) even when a test fails.
struct ScratchFolder {
    struct Failure: Error { let what: String }
    let path: String

    init() throws {
        var template = Array("/tmp/massiva-config-test-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw Failure(what: "mkdtemp: errno \(errno)") }
        path = String(cString: template)
    }

    func write(_ name: String, _ text: String) throws {
        let fd = open(path + "/" + name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(what: "open \(name): errno \(errno)") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw Failure(what: "write \(name): errno \(errno)")
        }
    }

    func remove() {
        if let directory = opendir(path) {
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { unlink(path + "/" + name) }
            }
            closedir(directory)
        }
        rmdir(path)
    }
}
