import MassivaDatabase

/// The settings of massiva, read from a Postfix-style file (see `Configuration.parse`).
///
/// Every parameter has a default (`Configuration.defaults`); a file only names what it changes.
/// Durations are seconds, sizes are bytes.
public struct Configuration: Sendable, Equatable {
    /// `spool_directory`: root of the spool. Relative values are resolved when a file is parsed.
    public var spoolDirectory: String
    /// `database`: where the state lives. `sqlite` (the default; empty means the same) is the
    /// embedded file `private/massiva.db` of the spool; a `postgresql://` (or `postgres://`)
    /// libpq URI is that PostgreSQL database. Checked by `DatabaseLocation(setting:embeddedPath:)`,
    /// the one parser of the value, which refuses a URI with a password (libpq reads it from
    /// `~/.pgpass` or `PGPASSFILE`). See `databaseLocation(embeddedPath:)`.
    public var database: String
    /// `registry`: which grid registry to use. Only `embedded` exists for now.
    public var registry: String
    /// `max_rows`: the largest number of data rows accepted in one request file.
    public var maxRows: Int
    /// `max_file_size`: the largest request file accepted, in bytes.
    public var maxFileSize: Int
    /// `settle_time`: where the kernel cannot tell whether an upload is still open for writing
    /// (no leases: NFS and other network filesystems), how long it must stay unchanged, from the
    /// last change the daemon saw, before it is picked up; where it can, the cap of the short
    /// quiet time after the writer's close (`UploadCompletion`). In seconds.
    public var settleTime: Double
    /// `resume_time`: how long an upload that looks cut short (closed without a line end at its
    /// end) waits, from its last change, for its client to resume or replace it before it is
    /// taken as it is, in seconds.
    public var resumeTime: Double
    /// `rescan_interval`: how often the incoming directory is scanned even without notifications, in seconds.
    public var rescanInterval: Double
    /// `max_attempts`: how many times a row is tried before it is given up.
    public var maxAttempts: Int
    /// `minimal_backoff_time`: the shortest wait before retrying a deferred row, in seconds.
    public var minimalBackoffTime: Double
    /// `maximal_backoff_time`: the longest wait before retrying a deferred row, in seconds.
    public var maximalBackoffTime: Double
    /// `outage_minimal_backoff_time`: the first pause after the registry becomes unavailable, in seconds.
    public var outageMinimalBackoffTime: Double
    /// `outage_maximal_backoff_time`: the longest pause while the registry stays unavailable, in seconds.
    public var outageMaximalBackoffTime: Double
    /// `active_queue_limit`: the most requests held in memory at once (taken from the database,
    /// claimed from a tenant's folder, or having their result files written, per step). 256 by
    /// default: the chunk the engine always used (it capped any larger value to it), with which
    /// 10,000 waiting files of 100 rows peaked at 42 MB resident.
    public var activeQueueLimit: Int
    /// `result_retention`: how long a finished request's folder stays in `results/` (and its
    /// line in richieste.csv) after it finished, or after `show --restore` wrote it back, in
    /// seconds; 0 keeps them forever. Its data stays in the database whatever this says.
    public var resultRetention: Double
    /// `duplicate_upload_window`: an upload with the same name and bytes as one of its tenant's
    /// requests recorded this many seconds before (or less) is rejected as a re-upload, naming
    /// the earlier one; 0 turns the check off.
    public var duplicateUploadWindow: Double
    /// `log_format`: how log lines are written.
    public var logFormat: LogFormat
    /// `results_encoding`: how result CSV files are encoded.
    public var resultsEncoding: ResultsEncoding
    /// `sftp_group`: the Unix group of every SI account (`massiva account add`), the one the
    /// sshd configuration's `Match Group` confines to SFTP in the tenant's folder.
    public var sftpGroup: String
    /// `authorized_keys_directory`: where `massiva account add` puts each SI account's public
    /// key, one file per login (sshd's `AuthorizedKeysFile <directory>/%u`).
    public var authorizedKeysDirectory: String
    /// `probe_command`: the program asked whether a meter answers now (exit 0 yes, 1 no, 75 the
    /// back end is down); nil: the embedded registry's `reachability` column answers.
    public var probeCommand: CommandTemplate?
    /// `probe_timeout`: a probe still running then is killed and the meter counts as unreachable.
    public var probeTimeout: Double
    /// `probe_concurrency`: the most probes running at once.
    public var probeConcurrency: Int
    /// `tenant_probe_concurrency`: the most probes of one tenant running at once while another
    /// tenant's probes wait for a slot (a tenant alone still uses every slot); 0: half of
    /// `probe_concurrency`, at least 1 (`effectiveTenantProbeConcurrency`).
    public var tenantProbeConcurrency: Int
    /// `tenant_queue_limit`: the most queued requests of one tenant; the uploads beyond it wait
    /// in its `incoming/`, unclaimed, until its queue is below the limit again.
    public var tenantQueueLimit: Int
    /// `association_command`: run once for every association made or removed (the outbox).
    public var associationCommand: CommandTemplate?
    /// `association_timeout`: an association command still running then is killed (not delivered).
    public var associationTimeout: Double
    /// `association_minimal_backoff_time`, `association_maximal_backoff_time`: the delays between
    /// attempts at delivering an outbox event.
    public var associationMinimalBackoffTime: Double
    public var associationMaximalBackoffTime: Double
    /// `metrics_file`: where the daemon writes its metrics in Prometheus's text format, for
    /// node_exporter's textfile collector (a `*.prom` file in its folder); empty: none.
    public var metricsFile: String
    /// `leader_lease_time`: how long the lease of the daemon that leads the spool lasts, in
    /// seconds; renewed at a third of it, taken over by a standby daemon once it has expired.
    public var leaderLeaseTime: Double
    /// `node_name`: this daemon's name among those sharing the spool (in the lease, the log and
    /// the metrics); empty: the host name. Set, it also names the daemon's lock
    /// (`private/massiva-<node_name>.lock`), so two daemons of different names may share a spool.
    public var nodeName: String

    /// Creates a configuration; every argument defaults to the built-in value.
    public init(
        spoolDirectory: String = "./spool",
        database: String = "sqlite",
        registry: String = "embedded",
        maxRows: Int = 100,
        maxFileSize: Int = 1_048_576,
        settleTime: Double = 2,
        resumeTime: Double = 900,
        rescanInterval: Double = 30,
        maxAttempts: Int = 5,
        minimalBackoffTime: Double = 300,
        maximalBackoffTime: Double = 4000,
        outageMinimalBackoffTime: Double = 5,
        outageMaximalBackoffTime: Double = 300,
        activeQueueLimit: Int = 256,
        resultRetention: Double = 90 * 86400,
        duplicateUploadWindow: Double = 86400,
        logFormat: LogFormat = .text,
        resultsEncoding: ResultsEncoding = .utf8BOM,
        sftpGroup: String = "massiva-sftp",
        authorizedKeysDirectory: String = "/etc/massiva/authorized_keys",
        probeCommand: CommandTemplate? = nil,
        probeTimeout: Double = 10,
        probeConcurrency: Int = 16,
        tenantProbeConcurrency: Int = 0,
        tenantQueueLimit: Int = 1000,
        associationCommand: CommandTemplate? = nil,
        associationTimeout: Double = 30,
        associationMinimalBackoffTime: Double = 10,
        associationMaximalBackoffTime: Double = 3600,
        metricsFile: String = "",
        leaderLeaseTime: Double = 15,
        nodeName: String = ""
    ) {
        self.spoolDirectory = spoolDirectory
        self.database = database
        self.registry = registry
        self.maxRows = maxRows
        self.maxFileSize = maxFileSize
        self.settleTime = settleTime
        self.resumeTime = resumeTime
        self.rescanInterval = rescanInterval
        self.maxAttempts = maxAttempts
        self.minimalBackoffTime = minimalBackoffTime
        self.maximalBackoffTime = maximalBackoffTime
        self.outageMinimalBackoffTime = outageMinimalBackoffTime
        self.outageMaximalBackoffTime = outageMaximalBackoffTime
        self.activeQueueLimit = activeQueueLimit
        self.resultRetention = resultRetention
        self.duplicateUploadWindow = duplicateUploadWindow
        self.logFormat = logFormat
        self.resultsEncoding = resultsEncoding
        self.sftpGroup = sftpGroup
        self.authorizedKeysDirectory = authorizedKeysDirectory
        self.probeCommand = probeCommand
        self.probeTimeout = probeTimeout
        self.probeConcurrency = probeConcurrency
        self.tenantProbeConcurrency = tenantProbeConcurrency
        self.tenantQueueLimit = tenantQueueLimit
        self.associationCommand = associationCommand
        self.associationTimeout = associationTimeout
        self.associationMinimalBackoffTime = associationMinimalBackoffTime
        self.associationMaximalBackoffTime = associationMaximalBackoffTime
        self.metricsFile = metricsFile
        self.leaderLeaseTime = leaderLeaseTime
        self.nodeName = nodeName
    }

    /// `tenant_probe_concurrency` as it applies: 0 is half of `probe_concurrency` (at least 1),
    /// and no value above `probe_concurrency` counts.
    public var effectiveTenantProbeConcurrency: Int {
        let limit = tenantProbeConcurrency == 0 ? probeConcurrency / 2 : tenantProbeConcurrency
        return max(1, min(limit, probeConcurrency))
    }

    /// The database `database` names: the embedded file at `embeddedPath` (the spool's
    /// `SpoolLayout.databasePath`) or the PostgreSQL URI. Throws only for a value the file would
    /// have been refused with (a configuration made in code).
    public func databaseLocation(embeddedPath: String) throws(DatabaseLocationError) -> DatabaseLocation {
        try DatabaseLocation(setting: database, embeddedPath: embeddedPath)
    }

    /// The built-in values, used for every parameter a file does not set.
    /// `spoolDirectory` is the unresolved `./spool`; see `resolvingPaths(relativeTo:)`.
    public static let defaults = Configuration()

    /// The same configuration with a relative `spoolDirectory` made absolute against `directory`.
    /// Use it on `defaults` when no configuration file is given.
    public func resolvingPaths(relativeTo directory: String) -> Configuration {
        var copy = self
        copy.spoolDirectory = PathResolution.resolve(spoolDirectory, relativeTo: directory)
        return copy
    }
}

/// The `log_format` values.
public enum LogFormat: String, Sendable, Equatable, CaseIterable {
    /// Human-readable lines.
    case text
    /// One JSON object per line.
    case json
}

/// The `results_encoding` values.
public enum ResultsEncoding: String, Sendable, Equatable, CaseIterable {
    /// UTF-8 preceded by a byte order mark, so spreadsheet programs detect the encoding.
    case utf8BOM = "utf-8-bom"
    /// Plain UTF-8.
    case utf8 = "utf-8"
    /// Windows-1252: Excel on Italian Windows opens it directly, with no import step; a
    /// character outside the code page is written as `?`.
    case windows1252 = "windows-1252"
}
