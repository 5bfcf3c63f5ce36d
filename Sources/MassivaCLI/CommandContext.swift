import MassivaConfig
import MassivaDatabase
import MassivaDomain
import MassivaProcessing
import MassivaRegistry
import MassivaSpool
import MassivaStore
import MassivaSystem

/// What a command works on: the configuration and, opened on first use, the spool's database.
public final class CommandContext {
    public let arguments: ParsedArguments
    public let environment: [String: String]
    /// The time for everything the command does (made once, by `massiva`'s main).
    public let clock: Clock
    private var loaded: Configuration?
    private var opened: OpenedSpool?
    /// The configuration file read when neither `--config` nor `MASSIVA_CONFIG` names one (and
    /// it exists); a parameter so tests need not depend on what the host has in `/etc`.
    public let defaultConfigurationPath: String

    public init(arguments: ParsedArguments, environment: [String: String], clock: Clock,
                defaultConfigurationPath: String = MassivaConfig.defaultConfigurationPath) {
        self.arguments = arguments
        self.environment = environment
        self.clock = clock
        self.defaultConfigurationPath = defaultConfigurationPath
    }

    /// `--config PATH`, else `MASSIVA_CONFIG`, else `/etc/massiva/massiva.cf` when it exists,
    /// else the built-in defaults (see `resolveConfigurationPath`).
    public func configuration() throws -> Configuration {
        if let loaded { return loaded }
        let configuration: Configuration
        if let path = resolveConfigurationPath(argument: configurationFileArgument, environment: environment,
                                               defaultPath: defaultConfigurationPath) {
            do { configuration = try Configuration.load(path: path) } catch { throw CLIError("\(error)", status: 2) }
        } else {
            configuration = Configuration.defaults.resolvingPaths(relativeTo: Self.currentDirectory())
        }
        loaded = configuration
        return configuration
    }

    /// The configuration read again (SIGHUP), resolved by the same rule as at start; the
    /// built-in defaults when no file applies. A file that cannot be read or is wrong leaves the
    /// configuration in use as it was (and the error thrown).
    public func reloadConfiguration() throws -> Configuration {
        let previous = loaded
        loaded = nil
        do {
            return try configuration()
        } catch {
            loaded = previous
            throw error
        }
    }

    /// `--config` names the configuration file, except where `associate` (the command with
    /// `--type`) takes it, as the portal words it, for the configuration type. Anywhere else
    /// `--config Standard` is a file name like any other, and a missing file an error, not
    /// silently the defaults.
    var configurationFileArgument: String? {
        guard let value = arguments.value("--config") else { return nil }
        if arguments.declares("--type"), ConfigurationType(parsing: value) != nil { return nil }
        return value
    }

    /// The command's identity: its one switch, made by `enter` before its body runs.
    let privileges = Privileges()

    /// The caller's login name, read before any switch: who submits a file or runs a service.
    public var callerName: String { privileges.callerName }

    /// The caller's identity, to read and write the files the operator named on the command
    /// line (see `Privilege.spoolOwnerWritingCallerFiles`).
    public var caller: CallerIdentity { privileges.caller }

    /// Makes the one identity switch `privilege` calls for (see `Privilege`); called by
    /// `MassivaCommandLine.main` before the command's body runs.
    public func enter(_ privilege: Privilege) throws {
        try privileges.enter(privilege) { SpoolLayout(root: try configuration().spoolDirectory) }
    }

    /// The spool's folders. Run as root on a spool the daemon owns, the command already acts
    /// as its owner (or, for root's commands, does so through `asSpoolOwner`).
    public func layout() throws -> SpoolLayout {
        precondition(privileges.entered != nil && privileges.entered != Privilege.none,
                     "a command that works on the spool declares it (Command.privilege)")
        return SpoolLayout(root: try configuration().spoolDirectory)
    }

    /// The database the configuration names (`database`), without opening it.
    public func databaseLocation() throws -> DatabaseLocation {
        do {
            return try configuration().databaseLocation(embeddedPath: try layout().databasePath)
        } catch let error as DatabaseLocationError {
            throw CLIError("\(error)", status: 2)
        }
    }

    /// The user this command acts as on the spool when run as root: the owner of `private/`,
    /// unless that is root itself or the folder does not exist yet (then the spool is root's).
    /// Nil when not running as root.
    public func spoolOwner() throws -> UnixUser? { try privileges.spoolOwner(try layout()) }

    /// Runs `body` with the spool owner's effective ids when a root command (`Privilege.root`)
    /// works on a daemon-owned spool, else as it is.
    public func asSpoolOwner<Result>(_ body: () throws -> Result) throws -> Result {
        try privileges.asSpoolOwner(try layout(), body)
    }

    /// The spool, opened on first use as the daemon opens it (`OpenedSpool.open`), as its owner.
    public func spool() throws -> OpenedSpool {
        if let opened { return opened }
        return try asSpoolOwner { try openSpool() }
    }

    private func openSpool() throws -> OpenedSpool {
        _ = try layout()  // checks the command declared the spool
        let spool: OpenedSpool
        do { spool = try OpenedSpool.open(try configuration()) } catch let error as OpenedSpool.PreparationError {
            throw CLIError(error.description)
        }
        opened = spool
        return spool
    }

    /// The state database.
    public func store() throws -> StateStore { try spool().store }

    public func registry() throws -> EmbeddedRegistry { try spool().registry }

    public func log() throws -> EventLog {
        EventLog(format: try configuration().logFormat == .json ? .json : .text)
    }

    public func engine(log: EventLog) throws -> Engine {
        try Engine(spool: try spool(), clock: clock, log: log)
    }

    /// The tenant named by `--tenant`, which must exist.
    public func tenant(_ option: String = "--tenant") throws -> Tenant {
        let id = try arguments.require(option)
        guard let tenant = try store().tenant(id) else { throw CLIError("unknown tenant \"\(id)\" (see massiva tenant list)") }
        return tenant
    }

    public func requestID(_ text: String) throws -> RequestID {
        guard let id = RequestID(parsing: text) else { throw CLIError("\"\(text)\" is not a request id (MOME-000000001)", status: 2) }
        return id
    }

    static func currentDirectory() -> String { CurrentProcess.currentDirectory ?? "." }
}
