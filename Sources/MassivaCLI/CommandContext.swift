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

    /// `--config` names the configuration file, except where `associate` (the command with
    /// `--type`) takes it, as the portal words it, for the configuration type. Anywhere else
    /// `--config Standard` is a file name like any other, and a missing file an error, not
    /// silently the defaults.
    var configurationFileArgument: String? {
        guard let value = arguments.value("--config") else { return nil }
        if arguments.declares("--type"), ConfigurationType(parsing: value) != nil { return nil }
        return value
    }

    /// Set by the commands that need root for part of their work (`tenant add`, `account ...`):
    /// they keep root and do their spool work through `asSpoolOwner`.
    public var keepsRoot = false
    private var enteredSpool = false
    private var owner: UnixUser??

    /// The spool, entered as its owner: run as root on a spool whose `private/` is another
    /// user's (the daemon's), a command first becomes that user, like Postfix's `postsuper`,
    /// so nothing it creates (the database's journal, a result folder) is root's and stops
    /// the daemon.
    public func layout() throws -> SpoolLayout {
        let layout = SpoolLayout(root: try configuration().spoolDirectory)
        if !enteredSpool {
            enteredSpool = true
            if !keepsRoot, let owner = try spoolOwner() {
                do { try ProcessCredentials.become(owner) } catch {
                    throw CLIError("cannot take the identity of the spool's owner \(owner.name): \(error)")
                }
            }
        }
        return layout
    }

    /// The user this command must act as on the spool when run as root: the owner of
    /// `private/`, unless that is root itself or the folder does not exist yet (then the spool
    /// is root's). Nil when not running as root.
    public func spoolOwner() throws -> UnixUser? {
        if let owner { return owner }
        var found: UnixUser?
        if ProcessCredentials.isRoot {
            let privateDirectory = SpoolLayout(root: try configuration().spoolDirectory).privateDirectory
            if let status = try? FileStatus.ofLink(privateDirectory), status.userID != 0 {
                guard status.kind == .directory else { throw CLIError("the spool's private folder is not a folder") }
                guard let user = UnixUser.withID(status.userID) else {
                    throw CLIError("the spool's private folder belongs to uid \(status.userID), which is no user of this system")
                }
                found = user
            }
        }
        owner = .some(found)
        return found
    }

    /// Runs `body` with the spool owner's effective ids when a root command works on a
    /// daemon-owned spool (see `keepsRoot`), else as it is.
    public func asSpoolOwner<Result>(_ body: () throws -> Result) throws -> Result {
        guard keepsRoot, let owner = try spoolOwner() else { return try body() }
        return try ProcessCredentials.withEffectiveIDs(uid: owner.uid, gid: owner.gid, body)
    }

    /// The spool, opened on first use as the daemon opens it (`OpenedSpool.open`), entered as
    /// its owner (see `layout`).
    public func spool() throws -> OpenedSpool {
        if let opened { return opened }
        return try asSpoolOwner { try openSpool() }
    }

    private func openSpool() throws -> OpenedSpool {
        _ = try layout()  // becomes the spool's owner first, when run as root
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
        try Engine(spool: try spool(), log: log)
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
