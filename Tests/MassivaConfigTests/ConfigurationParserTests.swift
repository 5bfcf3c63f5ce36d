import Foundation
import Testing
import MassivaConfig

@Suite struct ConfigurationParserTests {
    func parse(_ text: String) throws(ConfigurationError) -> Configuration {
        try Configuration.parse(text, source: "massiva.cf", relativeTo: "/srv")
    }

    func problem(_ text: String) -> ConfigurationError? {
        do { _ = try parse(text); return nil } catch { return error }
    }

    @Test func emptyTextGivesTheDefaultsWithTheSpoolResolved() throws {
        var expected = Configuration.defaults
        expected.spoolDirectory = "/srv/spool"
        #expect(try parse("") == expected)
        #expect(Configuration.defaults.spoolDirectory == "./spool")
    }

    @Test func everyParameterIsReadInItsSyntax() throws {
        let c = try parse("""
            spool_directory = /var/spool/massiva
            registry = embedded
            max_rows = 50
            max_file_size = 512k
            settle_time = 250ms
            rescan_interval = 1m
            max_attempts = 7
            minimal_backoff_time = 10s
            maximal_backoff_time = 1h
            outage_minimal_backoff_time = 1s
            outage_maximal_backoff_time = 2m
            active_queue_limit = 64
            log_format = json
            results_encoding = utf-8
            """)
        #expect(c.spoolDirectory == "/var/spool/massiva")
        #expect(c.registry == "embedded")
        #expect(c.maxRows == 50 && c.maxFileSize == 524_288)
        #expect(c.settleTime == 0.25 && c.rescanInterval == 60)
        #expect(c.maxAttempts == 7 && c.minimalBackoffTime == 10 && c.maximalBackoffTime == 3600)
        #expect(c.outageMinimalBackoffTime == 1 && c.outageMaximalBackoffTime == 120)
        #expect(c.activeQueueLimit == 64 && c.logFormat == .json && c.resultsEncoding == .utf8)
    }

    @Test func commentsBlankLinesContinuationsCRLFAndABOM() throws {
        let c = try parse("\u{FEFF}# a comment\r\n\r\n  # an indented comment\r\nspool_directory =\r\n   relative/spool\r\nmax_rows=5 \r\n")
        #expect(c.spoolDirectory == "/srv/relative/spool")
        #expect(c.maxRows == 5)
    }

    @Test func theLastDefinitionWinsButEveryOneMustBeValid() throws {
        #expect(try parse("max_rows = 5\nmax_rows = 6").maxRows == 6)
        #expect(problem("max_rows = x\nmax_rows = 6")?.line == 1)
    }

    /// A `#` after a value is part of it, as in Postfix: here it makes the number invalid.
    @Test func thereAreNoTrailingComments() {
        #expect(problem("max_rows = 5 # five")?.message.contains("max_rows") == true)
    }

    @Test func everyProblemNamesItsFileAndLine() {
        let unknown = problem("max_rows = 5\nmax_row = 6")
        #expect(unknown?.description == "massiva.cf:2: unknown parameter \"max_row\"")
        #expect(problem("\n\nmax_rows")?.line == 3)
        #expect(problem("= 5")?.message == "missing parameter name before \"=\"")
        #expect(problem("  max_rows = 5")?.line == 1)  // a continuation with nothing before it
        #expect(problem("max_rows = 0")?.line == 1)
        #expect(problem("settle_time = 5 minutes")?.line == 1)
        #expect(problem("rescan_interval = 0s")?.line == 1)  // must be positive
        #expect(problem("max_file_size = 1g")?.line == 1)
        #expect(problem("registry = remote")?.line == 1)
        #expect(problem("log_format = xml")?.line == 1)
        #expect(problem("results_encoding = latin1")?.line == 1)
        #expect(problem("spool_directory =")?.line == 1)
    }

    /// `metrics_file`: none by default, an absolute path, or set back to none by an empty value
    /// (a drop-in that turns off the package's default); a relative path is refused, since the
    /// daemon's working directory is no place an operator would look.
    @Test func aMetricsFileIsAnAbsolutePathOrNone() throws {
        #expect(Configuration.defaults.metricsFile == "")
        let path = "/var/lib/prometheus/node-exporter/massiva.prom"
        #expect(try parse("metrics_file = \(path)").metricsFile == path)
        #expect(try parse("metrics_file = \(path)\nmetrics_file =").metricsFile == "")
        #expect(problem("metrics_file = massiva.prom")?.message.contains("absolute path") == true)
        let c = try parse("metrics_file = \(path)")
        #expect(c.lines(onlyNonDefault: true).contains("metrics_file = \(path)"))
        #expect(try parse(c.lines(onlyNonDefault: false).joined(separator: "\n")) == c)
        #expect(try parse(Configuration.defaults.lines(onlyNonDefault: false).joined(separator: "\n")).metricsFile == "")
    }

    @Test func aMaximalBackoffShorterThanTheMinimalIsRefusedOnTheLaterLine() {
        let order = problem("maximal_backoff_time = 1m\nminimal_backoff_time = 2m\n")
        #expect(order?.line == 2)
        #expect(order?.message == "maximal_backoff_time (1m) must not be shorter than minimal_backoff_time (2m)")
        #expect(problem("outage_maximal_backoff_time = 1s")?.message.contains("outage_minimal_backoff_time") == true)
    }

    /// `config` prints what parsing reads back.
    @Test func theLinesParseBackToTheSameConfiguration() throws {
        let c = try parse("max_rows = 50\nsettle_time = 300s\nmax_file_size = 2048\nlog_format = json")
        #expect(try parse(c.lines(onlyNonDefault: false).joined(separator: "\n")) == c)
        #expect(c.lines(onlyNonDefault: true) == ["spool_directory = /srv/spool", "max_rows = 50", "max_file_size = 2k",
                                                 "settle_time = 5m", "log_format = json"])
    }

    @Test func loadReadsAFileAndSaysWhyItCannot() throws {
        let directory = NSTemporaryDirectory() + "massiva-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/massiva.cf"
        try "spool_directory = \(directory)/spool\nmax_rows = 9\n".write(toFile: path, atomically: true, encoding: .utf8)
        let c = try Configuration.load(path: path)
        #expect(c.maxRows == 9 && c.spoolDirectory == directory + "/spool")

        let missing = #expect(throws: ConfigurationError.self) { try Configuration.load(path: directory + "/none.cf") }
        #expect(missing?.description == "\(directory)/none.cf: cannot open: No such file or directory")
        FileManager.default.createFile(atPath: directory + "/latin1.cf", contents: Data([0x23, 0xE8, 0x0A]))
        let latin1 = #expect(throws: ConfigurationError.self) { try Configuration.load(path: directory + "/latin1.cf") }
        #expect(latin1?.message == "not valid UTF-8 text")
    }

    @Test func theFileIsTheArgumentThenTheEnvironmentThenNone() {
        #expect(resolveConfigurationPath(argument: "/a.cf", environment: ["MASSIVA_CONFIG": "/b.cf"]) == "/a.cf")
        #expect(resolveConfigurationPath(argument: nil, environment: ["MASSIVA_CONFIG": "/b.cf"]) == "/b.cf")
        // Without /etc/massiva/massiva.cf, whatever this host has (ConfigurationPathTests covers it).
        let noDefaultFile: (String) -> Bool = { _ in false }
        #expect(resolveConfigurationPath(argument: nil, environment: ["MASSIVA_CONFIG": ""], exists: noDefaultFile) == nil)
        #expect(resolveConfigurationPath(argument: nil, environment: [:], exists: noDefaultFile) == nil)
    }
}
