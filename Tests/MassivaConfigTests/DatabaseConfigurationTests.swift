import Testing
import MassivaConfig
import MassivaDatabase

/// `database` (issue 20): the embedded file by default, a libpq URI for PostgreSQL, a password
/// refused with the way libpq takes one instead, and never printed.
@Suite struct DatabaseConfigurationTests {
    func parse(_ text: String) throws -> Configuration {
        try Configuration.parse(text, source: "t.cf", relativeTo: "/srv")
    }

    @Test func unsetEmptyAndSqliteAreTheEmbeddedFile() throws {
        for text in ["", "database =", "database = sqlite", "database =   sqlite  "] {
            let configuration = try parse(text)
            #expect(configuration.database == "sqlite", "\(text)")
            #expect(try configuration.databaseLocation(embeddedPath: "/srv/spool/private/massiva.db")
                    == .sqlite(path: "/srv/spool/private/massiva.db"), "\(text)")
            // The default: `config -n` leaves it out.
            #expect(!configuration.lines(onlyNonDefault: true).contains { $0.hasPrefix("database") }, "\(text)")
        }
        #expect(Configuration.defaults.lines(onlyNonDefault: false).contains("database = sqlite"))
    }

    @Test(arguments: [
        "postgresql:///massiva?host=/run/postgresql",
        "postgres://massiva@db1.example:5432,db2.example:5432/massiva?target_session_attrs=read-write&sslmode=verify-full",
        "postgresql://massiva@%2Frun%2Fpostgresql/massiva",
        // A primary and its standby on one machine, by their sockets (PostgresPair's form).
        "postgresql:///massiva?host=/run/pg-a,/run/pg-b&port=5432,5433&target_session_attrs=read-write",
        "postgresql://",
    ])
    func aURIIsKeptAsWritten(uri: String) throws {
        let configuration = try parse("database = \(uri)")
        #expect(configuration.database == uri)
        #expect(try configuration.databaseLocation(embeddedPath: "/x") == .postgresql(uri: uri))
        #expect(configuration.lines(onlyNonDefault: true).contains("database = \(uri)"))
        // What `config` prints parses back to the same configuration.
        #expect(try parse(configuration.lines(onlyNonDefault: false).joined(separator: "\n")) == configuration)
    }

    @Test(arguments: [
        ("database = mysql://db/massiva", "use sqlite (the default) or a postgresql:// URI"),
        ("database = postgresql", "use sqlite (the default) or a postgresql:// URI"),
        ("database = SQLite", "use sqlite (the default) or a postgresql:// URI"),
        ("database = /var/lib/massiva.db", "use sqlite (the default) or a postgresql:// URI"),
        ("database = host=/run/postgresql dbname=massiva", "use sqlite (the default) or a postgresql:// URI"),
    ])
    func otherValuesAreRefused(line: String, expected: String) {
        let error = #expect(throws: ConfigurationError.self) { try parse("# a comment\n" + line) }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains(expected) && text.contains("t.cf:2"), "\(text)")
    }

    /// Every way a URI can carry a password: refused, pointing to ~/.pgpass and PGPASSFILE, and
    /// the password itself not in the message.
    @Test(arguments: [
        "postgresql://massiva:Sup3rSecret@db.example/massiva",
        "postgres://massiva:Sup3rSecret@/massiva?host=/run/postgresql",
        "postgresql://massiva:Sup3rSecret@db1.example:5432,db2.example:5432/massiva?target_session_attrs=read-write",
        "postgresql:///massiva?host=/run/pg-a,/run/pg-b&port=5432,5433&password=Sup3rSecret&target_session_attrs=read-write",
        "postgresql://db.example/massiva?user=massiva&password=Sup3rSecret",
        "postgresql://db.example/massiva?sslmode=require&PASSWORD=Sup3rSecret",
        // libpq decodes a parameter's name too: this is `password`.
        "postgresql://db.example/massiva?p%61ssword=Sup3rSecret",
    ])
    func aPasswordIsRefusedAndNotRepeated(uri: String) {
        let error = #expect(throws: ConfigurationError.self) { try parse("database = \(uri)") }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("~/.pgpass") && text.contains("PGPASSFILE") && text.contains("t.cf:1"), "\(text)")
        #expect(!text.contains("Sup3rSecret"), "\(text)")
        #expect(text.contains("***"), "\(text)")
    }

    /// A configuration made in code is not checked: should it hold a password, `config` still
    /// does not print it.
    @Test func renderingNeverShowsAPassword() {
        var configuration = Configuration.defaults
        configuration.database = "postgresql://massiva:Sup3rSecret@db.example/massiva?password=Other5ecret&sslmode=require"
        let line = configuration.lines(onlyNonDefault: true).first { $0.hasPrefix("database") }
        #expect(line == "database = postgresql://massiva:***@db.example/massiva?password=***&sslmode=require")
        #expect(throws: DatabaseLocationError.self) { try configuration.databaseLocation(embeddedPath: "/x") }
    }

    @Test func aUserNameWithoutAPasswordIsNoPassword() throws {
        let uri = "postgresql://massiva@db.example/massiva?passfile=/etc/massiva/pgpass"
        #expect(try parse("database = \(uri)").database == uri)
        #expect(DatabaseLocation.redacted(uri) == uri)
    }
}
