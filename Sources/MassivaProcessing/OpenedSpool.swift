import MassivaConfig
import MassivaDatabase
import MassivaSpool
import MassivaStore
import MassivaSystem

/// A spool opened for work: its folders exist, its database is open and its schema current.
///
/// The one way into a spool, for every command and the daemon (`Engine.open` builds on it):
/// the spool's own folders are made when missing, then the database the configuration names
/// (`database`: the embedded `private/massiva.db`, or a PostgreSQL database, where nothing is
/// made at `private/massiva.db`) is opened and given the migrations it lacks (`Schema.migrate`),
/// or refused when a newer release wrote it.
public struct OpenedSpool {
    public let configuration: Configuration
    public let layout: SpoolLayout
    public let store: StateStore
    public let registry: EmbeddedRegistry

    /// Why a spool could not be opened, besides the database's own errors.
    public struct PreparationError: Error, CustomStringConvertible {
        public let root: String
        public let underlying: any Error
        public var description: String { "cannot prepare the spool \(root): \(underlying)" }
    }

    /// Opens the spool of `configuration`. Throws `DatabaseUnavailableError` when its PostgreSQL
    /// database cannot be reached (a command exits 2 on it, the daemon waits and tries again),
    /// `PreparationError` when its folders cannot be made, and the database's own errors.
    /// Makes the spool's own folders where missing: private/ and private/tmp/ are the owner's
    /// to make (0700); tenants/ too on a developer's spool, while a deployed one's is root's
    /// (made by the package or by `tenant add`), so failing to make it is no error here.
    public static func prepareFolders(_ layout: SpoolLayout) throws {
        do {
            for directory in [layout.privateDirectory, layout.temporaryDirectory] {
                try FileSystem.makeDirectory(directory, mode: 0o700, intermediate: true)
            }
        } catch {
            throw PreparationError(root: layout.root, underlying: error)
        }
        if !FileSystem.exists(layout.tenantsDirectory) { try? FileSystem.makeDirectory(layout.tenantsDirectory) }
    }

    public static func open(_ configuration: Configuration) throws -> OpenedSpool {
        let layout = SpoolLayout(root: configuration.spoolDirectory)
        let location = try configuration.databaseLocation(embeddedPath: layout.databasePath)
        try prepareFolders(layout)
        let database = try Database.connect(location)
        try Schema.migrate(database)
        let store = try StateStore(database: database)
        return OpenedSpool(configuration: configuration, layout: layout, store: store,
                           registry: try EmbeddedRegistry(database: database))
    }
}

extension Engine {
    /// The engine on a spool opened as `OpenedSpool.open` does: `serve --once`, the daemon, and
    /// the daemon again at each reload (each time on connections of its own), on `clock`.
    /// With `fence`, every transaction on the engine's connections is fenced by it (a daemon
    /// that takes the spool's lease).
    public static func open(configuration: Configuration, clock: Clock, log: EventLog, fence: LeaderFence? = nil) throws -> Engine {
        try Engine(spool: OpenedSpool.open(configuration), clock: clock, log: log, fence: fence)
    }

    /// The engine on a spool already opened (a command that also reads it directly); throws
    /// when its own connections to the database cannot be opened.
    public convenience init(spool: OpenedSpool, clock: Clock, log: EventLog, fence: LeaderFence? = nil) throws {
        try self.init(configuration: spool.configuration, store: spool.store, registry: spool.registry, log: log,
                      clock: clock.readWall, fence: fence)
    }
}
