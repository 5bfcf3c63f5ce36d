import Glibc
import MassivaConfig
import MassivaDatabase
import MassivaDomain
import MassivaProcessing
import MassivaRegistry
import MassivaSpool
import MassivaSystem

/// What a command works on: the configuration and, opened on first use, the spool's database.
public final class CommandContext {
    public let arguments: ParsedArguments
    public let environment: [String: String]
    private var loaded: Configuration?
    private var openedStore: StateStore?
    private var openedRegistry: EmbeddedRegistry?
    /// The configuration file read when neither `--config` nor `MASSIVA_CONFIG` names one (and
    /// it exists); a parameter so tests need not depend on what the host has in `/etc`.
    public let defaultConfigurationPath: String

    public init(arguments: ParsedArguments, environment: [String: String],
                defaultConfigurationPath: String = MassivaConfig.defaultConfigurationPath) {
        self.arguments = arguments
        self.environment = environment
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
    /// built-in defaults when no file applies.
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

    /// The state database, creating the spool's private folders on first use.
    public func store() throws -> StateStore {
        if let openedStore { return openedStore }
        let layout = try layout()
        do {
            for directory in [layout.tenantsDirectory, layout.privateDirectory, layout.temporaryDirectory] {
                try FileSystem.makeDirectory(directory, intermediate: true)
            }
        } catch {
            throw CLIError("cannot prepare the spool \(layout.root): \(error)")
        }
        let database = try Database(path: layout.databasePath)
        let store = try StateStore(database: database)
        openedStore = store
        return store
    }

    public func registry() throws -> EmbeddedRegistry {
        if let openedRegistry { return openedRegistry }
        let registry = try EmbeddedRegistry(database: try store().database)
        openedRegistry = registry
        return registry
    }

    public func log() throws -> EventLog {
        EventLog(format: try configuration().logFormat == .json ? .json : .text)
    }

    public func engine(log: EventLog) throws -> Engine {
        Engine(configuration: try configuration(), store: try store(), registry: try registry(), log: log)
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

    static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
