import MassivaDatabase

/// The database's tables, versioned: `PRAGMA user_version` says which migrations have run.
///
/// Every `CREATE` and `ALTER` of massiva is here, as a migration. Opening a database runs the
/// ones it lacks, in order, each in its own transaction; a database written by a newer release
/// (a version this binary does not know) is refused, never changed.
///
/// The first release (main at 8dffc96) wrote no version: its databases read 0, and migration 1
/// is that release's schema exactly (`IF NOT EXISTS` throughout), so it finds them complete and
/// only records the version. `Tests/MassivaStoreTests/Fixtures/schema-1.db` is such a database.
public enum Schema {
    /// Every migration, in order; the last one's version is the schema this binary writes.
    public static let migrations: [Migration] = [version1, version2, version3, version4, version5, version6, version7, version8,
                                                  version9]

    /// The schema version this binary reads and writes.
    public static var currentVersion: Int { migrations.last?.version ?? 0 }

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    public static func open(path: String) throws -> Database {
        try open(.sqlite(path: path))
    }

    /// Opens the database at `location` (SQLite's file, created if needed, or a PostgreSQL
    /// database) and brings its schema up to date.
    public static func open(_ location: DatabaseLocation) throws -> Database {
        let database = try Database(location: location)
        try migrate(database)
        return database
    }

    /// The version recorded in the database (0: none, a new file or the first release's; on
    /// PostgreSQL an empty database). SQLite keeps it in `PRAGMA user_version` (the file's
    /// header), PostgreSQL in the one row of `schema_version`.
    public static func version(of database: Database) throws -> Int {
        switch database.engine {
        case .sqlite:
            return try database.queryOne("PRAGMA user_version", []) { $0.int(0) } ?? 0
        case .postgresql:
            // Two statements: one naming a table that is not there fails when it is prepared.
            guard try database.queryOne("SELECT to_regclass('schema_version') IS NOT NULL AS known", [], { $0.bool("known") }) == true else {
                return 0
            }
            return try database.queryOne("SELECT coalesce(max(version), 0) AS version FROM schema_version", []) { $0.int("version") } ?? 0
        }
    }

    /// Throws `SchemaError.newerThanBinary` when `database` is past `currentVersion`: a newer
    /// massiva migrated it after this process opened it. One `PRAGMA user_version` (a read of
    /// the database header), cheap enough for every pass of the daemon.
    public static func ensureKnown(_ database: Database) throws {
        let found = try version(of: database)
        if found > currentVersion {
            throw SchemaError.newerThanBinary(path: database.path, found: found, supported: currentVersion)
        }
    }

    /// Runs the migrations `database` lacks, each in one transaction with the version it sets.
    /// Returns those that ran. Throws `SchemaError.newerThanBinary` when the database is already
    /// past the last of `migrations` (tests pass a longer list to try a future migration).
    @discardableResult
    public static func migrate(_ database: Database, migrations: [Migration] = migrations) throws -> [Migration] {
        let target = migrations.last?.version ?? 0
        let found = try version(of: database)
        if found > target {
            throw SchemaError.newerThanBinary(path: database.path, found: found, supported: target)
        }
        if found == target { return [] }
        if database.engine == .postgresql {
            // The table that holds the version, made once (its own transaction, serialised by
            // an advisory lock: two processes opening a new database at once both get it).
            try database.transaction { try database.execute(postgresqlVersionTable) }
        }
        var ran: [Migration] = []
        for migration in migrations where migration.version > found {
            let applied = try database.transaction { () throws -> Bool in
                // Read again under the write lock: another process may have run it meanwhile.
                guard try version(of: database) < migration.version else { return false }
                try migration.apply(database)
                // The version is written in this same transaction: SQLite's user_version lives in
                // the database header, PostgreSQL's in schema_version.
                switch database.engine {
                case .sqlite: try database.execute("PRAGMA user_version = \(migration.version)")
                case .postgresql: try database.run("UPDATE schema_version SET version = ?", [.int(migration.version)])
                }
                return true
            }
            if applied { ran.append(migration) }
        }
        return ran
    }

    // MARK: Migrations

    /// The first release's tables, as it created them: the engine's state (StateStore), the
    /// association lists, the embedded registry (EmbeddedRegistry) and the audit trail.
    static let version1 = Migration(version: 1, summary: "the first release's tables", sql: """
        CREATE TABLE IF NOT EXISTS tenants(
            id TEXT PRIMARY KEY, name TEXT NOT NULL, enabled INTEGER NOT NULL DEFAULT 1, created_at REAL NOT NULL);
        CREATE TABLE IF NOT EXISTS requests(
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            tenant TEXT NOT NULL, file_name TEXT NOT NULL, configurator TEXT NOT NULL,
            claim_name TEXT UNIQUE, status TEXT NOT NULL, reason TEXT, note TEXT, content BLOB,
            rows_total INTEGER NOT NULL DEFAULT 0, rows_processed INTEGER NOT NULL DEFAULT 0,
            rows_failed INTEGER NOT NULL DEFAULT 0, max_attempts_hit INTEGER NOT NULL DEFAULT 0,
            submitted_at REAL NOT NULL, completed_at REAL, next_due_at REAL,
            state_version INTEGER NOT NULL DEFAULT 1, results_version INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX IF NOT EXISTS requests_queued ON requests(id) WHERE status = 'queued';
        CREATE INDEX IF NOT EXISTS requests_due ON requests(next_due_at) WHERE status = 'processing';
        CREATE INDEX IF NOT EXISTS requests_stale ON requests(id) WHERE state_version <> results_version;
        CREATE INDEX IF NOT EXISTS requests_by_tenant ON requests(tenant, id);
        CREATE TABLE IF NOT EXISTS rows(
            request INTEGER NOT NULL REFERENCES requests(id), position INTEGER NOT NULL, line INTEGER NOT NULL,
            pod TEXT NOT NULL, sid TEXT NOT NULL, configuration TEXT NOT NULL,
            nid TEXT NOT NULL DEFAULT '', device_type TEXT NOT NULL DEFAULT '', production_pod TEXT NOT NULL DEFAULT '',
            matricola TEXT NOT NULL DEFAULT '', eneltel TEXT NOT NULL DEFAULT '', gesis INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL, code TEXT NOT NULL, detail TEXT, attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL, processed_at REAL,
            PRIMARY KEY(request, position)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS rows_waiting ON rows(request) WHERE state = 'waiting';
        CREATE TABLE IF NOT EXISTS association_lists(
            tenant TEXT PRIMARY KEY, state_version INTEGER NOT NULL DEFAULT 1, results_version INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS pods(
            pod TEXT PRIMARY KEY, eneltel TEXT NOT NULL, matricola TEXT NOT NULL,
            meter_type TEXT NOT NULL, exchange_pod TEXT, telemanaged INTEGER NOT NULL,
            eligible INTEGER NOT NULL, reachability TEXT NOT NULL, holder_tax_code TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS pods_by_exchange ON pods(exchange_pod) WHERE exchange_pod IS NOT NULL;
        CREATE TABLE IF NOT EXISTS devices(
            sid TEXT PRIMARY KEY, nid TEXT NOT NULL, device_type TEXT NOT NULL, owner TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS probe_counts(pod TEXT PRIMARY KEY, probes INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS associations(
            pod TEXT PRIMARY KEY, sid TEXT NOT NULL UNIQUE, nid TEXT NOT NULL, device_type TEXT NOT NULL,
            configuration_type TEXT NOT NULL, production_pod TEXT, tenant TEXT NOT NULL,
            configurator TEXT NOT NULL, request TEXT, created_at REAL NOT NULL);
        CREATE INDEX IF NOT EXISTS associations_by_tenant ON associations(tenant, created_at);
        CREATE INDEX IF NOT EXISTS associations_by_production ON associations(production_pod) WHERE production_pod IS NOT NULL;
        CREATE TABLE IF NOT EXISTS audit(
            id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, tenant TEXT NOT NULL,
            configurator TEXT NOT NULL, action TEXT NOT NULL, pod TEXT NOT NULL, sid TEXT NOT NULL,
            request TEXT, outcome TEXT NOT NULL, detail TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS audit_by_tenant ON audit(tenant, at);
        CREATE INDEX IF NOT EXISTS audit_by_pod ON audit(pod, at);
        CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
            BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
            BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;
        """)

    /// SI accounts: the Unix login that uploads for a tenant and the person's name CONFIGURATORE
    /// shows for it (`account add/remove/list`). `IF NOT EXISTS`: a spool opened by a build of
    /// main that created the table lazily, before it was a migration, has it already.
    static let version2 = Migration(version: 2, summary: "SI accounts", sql: """
        CREATE TABLE IF NOT EXISTS accounts(
            login TEXT PRIMARY KEY, tenant TEXT NOT NULL REFERENCES tenants(id), name TEXT NOT NULL,
            uid INTEGER NOT NULL, created_at REAL NOT NULL);
        """)

    /// The portal's single form and report name the configurator's given name and surname apart
    /// (Nome, Cognome): accounts, requests and associations record them beside the full name,
    /// which CONFIGURATORE keeps showing. An account added before this migration has only its
    /// name, "Nome Cognome": it is split at its first space (given name the first word, surname
    /// the rest, so "Anna De Luca" is right and "Maria Grazia Rossi" is not: `account name`
    /// corrects it); a one-word name is taken as the surname. Requests and associations recorded
    /// before it take the parts of the account of their tenant with the same name, if any.
    /// And the NID lookup of single associations (`associate --nid`) gets its index.
    static let version3 = Migration(version: 3, summary: "configurator's given name and surname; devices by NID", sql: """
        ALTER TABLE accounts ADD COLUMN given_name TEXT NOT NULL DEFAULT '';
        ALTER TABLE accounts ADD COLUMN surname TEXT NOT NULL DEFAULT '';
        UPDATE accounts SET given_name = substr(trim(name), 1, instr(trim(name), ' ') - 1),
                            surname = trim(substr(trim(name), instr(trim(name), ' ') + 1))
            WHERE instr(trim(name), ' ') > 0;
        UPDATE accounts SET surname = trim(name) WHERE instr(trim(name), ' ') = 0;
        ALTER TABLE requests ADD COLUMN configurator_given_name TEXT NOT NULL DEFAULT '';
        ALTER TABLE requests ADD COLUMN configurator_surname TEXT NOT NULL DEFAULT '';
        ALTER TABLE associations ADD COLUMN configurator_given_name TEXT NOT NULL DEFAULT '';
        ALTER TABLE associations ADD COLUMN configurator_surname TEXT NOT NULL DEFAULT '';
        UPDATE requests SET (configurator_given_name, configurator_surname) =
            (SELECT given_name, surname FROM accounts a WHERE a.tenant = requests.tenant AND a.name = requests.configurator
             ORDER BY a.login LIMIT 1)
            WHERE EXISTS (SELECT 1 FROM accounts a WHERE a.tenant = requests.tenant AND a.name = requests.configurator);
        UPDATE associations SET (configurator_given_name, configurator_surname) =
            (SELECT given_name, surname FROM accounts a WHERE a.tenant = associations.tenant AND a.name = associations.configurator
             ORDER BY a.login LIMIT 1)
            WHERE EXISTS (SELECT 1 FROM accounts a WHERE a.tenant = associations.tenant AND a.name = associations.configurator);
        CREATE INDEX IF NOT EXISTS devices_by_nid ON devices(nid COLLATE NOCASE);
        """)

    /// The outbox of association events (`Outbox`): one line for every association made or
    /// removed while `association_command` is set, written in the same transaction as the
    /// association, deleted once the command has taken it (exit 0).
    static let version4 = Migration(version: 4, summary: "the outbox of association events", sql: """
        CREATE TABLE outbox(
            id INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT NOT NULL, pod TEXT NOT NULL, sid TEXT NOT NULL,
            nid TEXT NOT NULL, tenant TEXT NOT NULL, request TEXT, created_at REAL NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL DEFAULT 0, last_error TEXT);
        """)

    /// What the metrics file (`metrics_file`) needs the database to keep, so that its counters
    /// survive restarts and a retention that deletes old requests: tallies kept by triggers in
    /// the transaction that moves a request (never a write of the engine's own, and one small
    /// upsert per request, not per row), the registry outages, and the two times a request's
    /// drop-to-result latency is measured between. Existing spools get their tallies from what
    /// they hold (their past requests have no drop time: they count in no latency).
    static let version5 = Migration(version: 5, summary: "metrics: tallies, registry outages, drop and result times", sql: """
        CREATE TABLE IF NOT EXISTS metric_counts(
            metric TEXT NOT NULL, tenant TEXT NOT NULL DEFAULT '', key TEXT NOT NULL DEFAULT '',
            value REAL NOT NULL DEFAULT 0, PRIMARY KEY(metric, tenant, key)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS registry_outages(
            id INTEGER PRIMARY KEY, started_at REAL NOT NULL, ended_at REAL);
        ALTER TABLE requests ADD COLUMN dropped_at REAL;
        ALTER TABLE requests ADD COLUMN result_at REAL;

        INSERT INTO metric_counts(metric, tenant, key, value)
            SELECT 'requests', tenant, status, count(*) FROM requests
            WHERE status IN ('done', 'rejected', 'cancelled') GROUP BY tenant, status;
        INSERT INTO metric_counts(metric, tenant, key, value)
            SELECT 'rows', q.tenant, r.code, count(*) FROM rows r JOIN requests q ON q.id = r.request
            WHERE q.status IN ('done', 'rejected', 'cancelled') AND r.state <> 'waiting' GROUP BY q.tenant, r.code;
        INSERT INTO metric_counts(metric, tenant, key, value)
            SELECT 'refused_uploads', tenant, '', count(*) FROM requests
            WHERE status = 'rejected' AND content IS NULL GROUP BY tenant;
        UPDATE requests SET result_at = completed_at
            WHERE status IN ('done', 'rejected', 'cancelled') AND results_version >= state_version;

        -- A request recorded as rejected (its file refused as a whole): counted at once; one
        -- recorded without its bytes was refused unread (a link, a FIFO, a folder, too large).
        CREATE TRIGGER IF NOT EXISTS metrics_request_recorded AFTER INSERT ON requests
        WHEN new.status IN ('done', 'rejected', 'cancelled')
        BEGIN
            INSERT INTO metric_counts(metric, tenant, key, value) VALUES('requests', new.tenant, new.status, 1)
                ON CONFLICT(metric, tenant, key) DO UPDATE SET value = value + 1;
            INSERT INTO metric_counts(metric, tenant, key, value)
                SELECT 'refused_uploads', new.tenant, '', 1 WHERE new.content IS NULL AND new.status = 'rejected'
                ON CONFLICT(metric, tenant, key) DO UPDATE SET value = value + 1;
        END;

        -- A request that reaches a final status: it and its rows' final outcomes, by code, in
        -- the transaction that settles it (its rows are saved before it is settled).
        CREATE TRIGGER IF NOT EXISTS metrics_request_final AFTER UPDATE OF status ON requests
        WHEN old.status <> new.status AND new.status IN ('done', 'rejected', 'cancelled')
        BEGIN
            INSERT INTO metric_counts(metric, tenant, key, value) VALUES('requests', new.tenant, new.status, 1)
                ON CONFLICT(metric, tenant, key) DO UPDATE SET value = value + 1;
            INSERT INTO metric_counts(metric, tenant, key, value)
                SELECT 'rows', new.tenant, code, count(*) FROM rows WHERE request = new.id AND state <> 'waiting' GROUP BY code
                ON CONFLICT(metric, tenant, key) DO UPDATE SET value = value + excluded.value;
        END;

        -- The final result files recorded as written: the drop-to-result latency, once per
        -- request, from the upload's modification time (or its recording) to now, the time the
        -- files are recorded. Buckets are kept one each (not cumulative), summed when read; they
        -- are dense around the settle times (1 s, 2 s) that most of the latency is.
        CREATE TRIGGER IF NOT EXISTS metrics_request_result AFTER UPDATE OF results_version ON requests
        WHEN new.result_at IS NULL AND new.status IN ('done', 'rejected', 'cancelled') AND new.results_version >= new.state_version
        BEGIN
            UPDATE requests SET result_at = (julianday('now') - 2440587.5) * 86400.0 WHERE id = new.id;
            INSERT INTO metric_counts(metric, tenant, key, value)
                SELECT 'drop_to_result_bucket', '', CASE
                    WHEN l <= 0.05 THEN '0.05' WHEN l <= 0.1 THEN '0.1' WHEN l <= 0.25 THEN '0.25'
                    WHEN l <= 0.5 THEN '0.5' WHEN l <= 1 THEN '1' WHEN l <= 1.5 THEN '1.5' WHEN l <= 2 THEN '2'
                    WHEN l <= 2.5 THEN '2.5' WHEN l <= 3 THEN '3' WHEN l <= 5 THEN '5' WHEN l <= 10 THEN '10'
                    WHEN l <= 30 THEN '30' WHEN l <= 60 THEN '60' WHEN l <= 300 THEN '300' WHEN l <= 1800 THEN '1800'
                    WHEN l <= 3600 THEN '3600' WHEN l <= 14400 THEN '14400' ELSE '+Inf' END, 1
                FROM (SELECT max(0.0, result_at - coalesce(dropped_at, submitted_at)) AS l FROM requests WHERE id = new.id)
                WHERE true
                ON CONFLICT(metric, tenant, key) DO UPDATE SET value = value + 1;
            INSERT INTO metric_counts(metric, tenant, key, value)
                SELECT 'drop_to_result_sum', '', '', max(0.0, result_at - coalesce(dropped_at, submitted_at))
                FROM requests WHERE id = new.id
                ON CONFLICT(metric, tenant, key) DO UPDATE SET value = value + excluded.value;
        END;
        """)

    /// Flat cost as history grows, and retention (issue 10):
    /// - `results_state`: whether a request's folder is in `results/` (`present`), being written
    ///   back by `show --restore` (`restoring`), leaving it (`retiring`: no longer listed in
    ///   richieste.csv, its folder still to be removed) or gone (`removed`); `restored_at` starts
    ///   the retention period again after a restore.
    /// - `request_lists`: per tenant, the version of its request list and the version its
    ///   richieste.csv shows (as `association_lists` does for associazioni.csv), so the list is
    ///   written on its own, after the request folders, and a crash leaves it stale, not lost.
    /// - `requests_list`: covers richieste.csv's columns, so writing the list reads this index
    ///   alone. Without it every line read the request's table row, and the columns after the
    ///   uploaded bytes (`content`, stored inline) sit behind that blob's overflow pages.
    /// - `association_lists.removed_version` and `written_*`: associazioni.csv is appended to
    ///   (a copy of the file, then the new lines) when only associations were made since it
    ///   was written, instead of rendered whole: `removed_version` is the list's version at the
    ///   last removal (or registry change), `written_lines` and `written_through_*` what the
    ///   file holds. Rendering 500,000 associations took about 2 s a time.
    /// - `associations_by_tenant_time`, `associations_by_time`: associazioni.csv and the report
    ///   in their order (created_at, pod) straight from an index. With only (tenant, created_at)
    ///   SQLite sorted the whole list in memory: 500,000 associations took the daemon from 48
    ///   to 125 MB resident (bench-scale, history 5,000).
    static let version6 = Migration(version: 6, summary: "request lists on their own, retention", sql: """
        ALTER TABLE requests ADD COLUMN results_state TEXT NOT NULL DEFAULT 'present';
        ALTER TABLE requests ADD COLUMN restored_at REAL;
        CREATE INDEX requests_list ON requests(tenant, id, file_name, submitted_at, completed_at, rows_processed, rows_total,
            rows_failed, status, max_attempts_hit, reason, results_state, results_version);
        CREATE INDEX requests_retention ON requests(completed_at) WHERE results_state = 'present';
        CREATE INDEX requests_leaving ON requests(tenant, id) WHERE results_state IN ('retiring', 'restoring');
        DROP INDEX IF EXISTS associations_by_tenant;
        CREATE INDEX associations_by_tenant_time ON associations(tenant, created_at, pod);
        CREATE INDEX associations_by_time ON associations(created_at, pod);
        ALTER TABLE association_lists ADD COLUMN removed_version INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE association_lists ADD COLUMN written_lines INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE association_lists ADD COLUMN written_through_at REAL;
        ALTER TABLE association_lists ADD COLUMN written_through_pod TEXT;
        CREATE TABLE request_lists(
            tenant TEXT PRIMARY KEY, state_version INTEGER NOT NULL DEFAULT 1, results_version INTEGER NOT NULL DEFAULT 0);
        """)

    /// The drop-to-result latency measured on the engine's clock, not SQLite's: the time the
    /// result files are recorded comes in as a bound parameter (`markResultsWritten(now:)` sets
    /// `result_at`), and the trigger of migration 5, which took it from `julianday('now')`, is
    /// replaced by one that fires when `result_at` is first set. With the database reading the
    /// system's clock, a test on a fake clock measured a latency of years (or none), and a
    /// clock set back by NTP showed up in the histogram. The buckets and sum are the same.
    static let version7 = Migration(version: 7, summary: "the result time from the engine's clock", sql: """
        DROP TRIGGER IF EXISTS metrics_request_result;
        CREATE TRIGGER metrics_request_result AFTER UPDATE OF result_at ON requests
        WHEN old.result_at IS NULL AND new.result_at IS NOT NULL
        BEGIN
            INSERT INTO metric_counts(metric, tenant, key, value)
                SELECT 'drop_to_result_bucket', '', CASE
                    WHEN l <= 0.05 THEN '0.05' WHEN l <= 0.1 THEN '0.1' WHEN l <= 0.25 THEN '0.25'
                    WHEN l <= 0.5 THEN '0.5' WHEN l <= 1 THEN '1' WHEN l <= 1.5 THEN '1.5' WHEN l <= 2 THEN '2'
                    WHEN l <= 2.5 THEN '2.5' WHEN l <= 3 THEN '3' WHEN l <= 5 THEN '5' WHEN l <= 10 THEN '10'
                    WHEN l <= 30 THEN '30' WHEN l <= 60 THEN '60' WHEN l <= 300 THEN '300' WHEN l <= 1800 THEN '1800'
                    WHEN l <= 3600 THEN '3600' WHEN l <= 14400 THEN '14400' ELSE '+Inf' END, 1
                FROM (SELECT max(0.0, new.result_at - coalesce(new.dropped_at, new.submitted_at)) AS l)
                WHERE true
                ON CONFLICT(metric, tenant, key) DO UPDATE SET value = value + 1;
            INSERT INTO metric_counts(metric, tenant, key, value)
                SELECT 'drop_to_result_sum', '', '', max(0.0, new.result_at - coalesce(new.dropped_at, new.submitted_at))
                WHERE true
                ON CONFLICT(metric, tenant, key) DO UPDATE SET value = value + excluded.value;
        END;
        """)

    /// Re-uploads recognised (`duplicate_upload_window`, issue 22): `content_digest` is the
    /// SHA-256 of a request's uploaded bytes (NULL when none were read), and `duplicate_of` the
    /// earlier request a rejected re-upload repeats. `requests_uploads` finds the twin of an
    /// upload by (tenant, name, digest, time) from the index alone, inside the recording
    /// transaction; only requests with a digest are in it. Requests recorded before this
    /// migration have no digest: a re-upload of one of them is taken as a new request, once.
    static let version8 = Migration(version: 8, summary: "upload digests, for re-uploads", sql: """
        ALTER TABLE requests ADD COLUMN content_digest BLOB;
        ALTER TABLE requests ADD COLUMN duplicate_of INTEGER;
        CREATE INDEX requests_uploads ON requests(tenant, file_name, content_digest, submitted_at)
            WHERE content_digest IS NOT NULL;
        """)

    /// Active/passive (issue 21): one row per spool, the lease its leader holds (`LeaderLease`).
    /// `term` grows by one at every takeover and fences the engine's transactions (`LeaderFence`);
    /// `expires_at` is wall time as the holder bound it (seconds since 1970); `node`, `host`,
    /// `pid` and `started_at` say who holds it, for `massiva status`. A logged (ordinary)
    /// table: on PostgreSQL an unlogged one would be empty after a standby's promotion, and a
    /// node that then found no row would take over while the old leader still works.
    static let version9 = Migration(version: 9, summary: "the leader's lease", sql: """
        CREATE TABLE leader_lease(
            spool TEXT PRIMARY KEY, holder TEXT NOT NULL, term INTEGER NOT NULL, expires_at REAL NOT NULL,
            node TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL, started_at REAL NOT NULL,
            acquired_at REAL NOT NULL);
        """)
}
