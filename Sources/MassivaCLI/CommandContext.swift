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
    private var loaded: Configuration?
    private var opened: OpenedSpool?

    public init(arguments: ParsedArguments, environment: [String: String]) {
        self.arguments = arguments
        self.environment = environment
    }

    /// `--config PATH`, else `MASSIVA_CONFIG`, else the built-in defaults.
    public func configuration() throws -> Configuration {
        if let loaded { return loaded }
        let configuration: Configuration
        if let path = resolveConfigurationPath(argument: configurationFileArgument, environment: environment) {
            do { configuration = try Configuration.load(path: path) } catch { throw CLIError("\(error)", status: 2) }
        } else {
            configuration = Configuration.defaults.resolvingPaths(relativeTo: Self.currentDirectory())
        }
        loaded = configuration
        return configuration
    }

    /// The configuration read again from its file (SIGHUP); the built-in defaults when none.
    public func reloadConfiguration() throws -> Configuration {
        loaded = nil
        return try configuration()
    }

    /// `--config` names the configuration file, except where `associate` takes it, as the
    /// issue words it, for the configuration type (`--config Standard|Prosumer`).
    var configurationFileArgument: String? {
        guard let value = arguments.value("--config") else { return nil }
        return ConfigurationType(parsing: value) == nil ? value : nil
    }

    public func layout() throws -> SpoolLayout { SpoolLayout(root: try configuration().spoolDirectory) }

    /// The spool, opened on first use as the daemon opens it (`OpenedSpool.open`).
    public func spool() throws -> OpenedSpool {
        if let opened { return opened }
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
        Engine(spool: try spool(), log: log)
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
