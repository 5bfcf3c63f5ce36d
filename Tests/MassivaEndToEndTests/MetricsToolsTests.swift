import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc
import MassivaTestSupport
import Testing

/// The metrics file with the real tools from Debian's packages (`scripts/ensure-deps` installs
/// `prometheus` for promtool and `prometheus-node-exporter`): promtool checks the file the binary
/// writes, the alert rules and their unit tests; node_exporter serves the daemon's series over
/// HTTP. A missing tool fails the test (it is installable everywhere the suite runs).
@Suite struct MetricsToolsTests {
    static let rules = samplesDirectory + "/prometheus/massiva-rules.yml"
    static let ruleTests = samplesDirectory + "/prometheus/massiva-rules.test.yml"

    /// The tool's path on PATH (or in /usr/bin), or a recorded issue saying how to get it.
    func tool(_ name: String, package: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin", "/usr/sbin"]
        if let found = path.map({ $0 + "/" + name }).first(where: { access($0, X_OK) == 0 }) { return found }
        Issue.record("\(name) is not installed: scripts/ensure-deps --test installs it (apt package \(package))", sourceLocation: sourceLocation)
        throw POSIXError(.ENOENT)
    }

    /// Runs a tool to its end: exit status and everything it printed.
    func run(_ executable: String, _ arguments: [String], stdin: String? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        let input = Pipe()
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        try process.run()
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try input.fileHandleForWriting.close()
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func waitFor(_ what: String, timeout: Double, _ done: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try done() { return }
            usleep(100_000)
        }
        Issue.record("timed out waiting for \(what)")
        throw POSIXError(.ETIMEDOUT)
    }

    @Test func promtoolAcceptsTheAlertRulesAndTheirUnitTestsPass() throws {
        let promtool = try tool("promtool", package: "prometheus")
        let check = try run(promtool, ["check", "rules", Self.rules])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("SUCCESS: 6 rules found"), "\(check.output)")
        let test = try run(promtool, ["test", "rules", Self.ruleTests])
        #expect(test.status == 0, "\(test.output)")
        #expect(test.output.contains("SUCCESS"), "\(test.output)")
    }

    /// The metrics file `serve --once` writes on the samples: a clean file, the every-error
    /// file (rows left waiting) and an empty file (rejected).
    func metricsOfTheSamples(_ spool: Spool) throws -> String {
        let file = spool.root + "/textfile/massiva.prom"
        try FileManager.default.createDirectory(atPath: spool.root + "/textfile", withIntermediateDirectories: true)
        // The production backoff times: the flaky rows' retries are not due in this run.
        try "spool_directory = \(spool.spool)\nsettle_time = 0s\nmetrics_file = \(file)\n".write(toFile: spool.configPath, atomically: false, encoding: .utf8)
        try spool.setUpSamples()
        try spool.copySample("acme-clean.csv", to: "acme")
        try spool.copySample("acme-every-error.csv", to: "acme")
        try "".write(toFile: spool.incoming("voltaic") + "/empty.csv", atomically: false, encoding: .utf8)
        _ = try spool.ok(["serve", "--once"])
        return try String(contentsOfFile: file, encoding: .utf8)
    }

    @Test func theFileServeOnceWritesPassesPromtoolCheckMetrics() throws {
        let promtool = try tool("promtool", package: "prometheus")
        let spool = try Spool()
        let text = try metricsOfTheSamples(spool)
        let check = try run(promtool, ["check", "metrics"], stdin: text)
        #expect(check.status == 0 && check.output.isEmpty, "promtool check metrics: \(check.output)")
        let lines = Set(text.split(separator: "\n").map(String.init))
        for expected in ["massiva_requests_total{tenant=\"acme\",status=\"done\"} 1",
                         "massiva_requests_total{tenant=\"voltaic\",status=\"rejected\"} 1",
                         "massiva_tenant_consecutive_rejected_requests{tenant=\"voltaic\"} 1",
                         "massiva_processing_requests 1", "massiva_waiting_rows 5",
                         "massiva_drop_to_result_seconds_count 2"] {
            #expect(lines.contains(expected), "missing: \(expected)")
        }
        #expect(lines.contains { $0.hasPrefix("massiva_rows_total{tenant=\"acme\",code=\"OK\"} ") })
        // The release, as massiva --version says it ("massiva 1.0.0").
        let version = try spool.ok(["--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "massiva ", with: "")
        #expect(!version.isEmpty && lines.contains("massiva_build_info{version=\"\(version)\"} 1"), "version \(version)")
    }

    @Test func nodeExporterServesTheSeriesTheDaemonWrites() throws {
        let nodeExporter = try tool("prometheus-node-exporter", package: "prometheus-node-exporter")
        let spool = try Spool()
        let folder = spool.root + "/textfile"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try "spool_directory = \(spool.spool)\nsettle_time = 0s\nmetrics_file = \(folder)/massiva.prom\n"
            .write(toFile: spool.configPath, atomically: false, encoding: .utf8)
        try spool.setUpSamples()
        let daemon = try spool.start(["serve"])
        defer {
            daemon.process.terminate()
            daemon.process.waitUntilExit()
        }
        try spool.copySample("acme-clean.csv", to: "acme")
        // The daemon writes at most every 5 s after passes: the done request shows within that.
        try waitFor("the daemon's metrics file to count the request", timeout: 30) {
            let text = (try? String(contentsOfFile: folder + "/massiva.prom", encoding: .utf8)) ?? ""
            return text.contains("massiva_requests_total{tenant=\"acme\",status=\"done\"} 1\n")
        }

        // node_exporter on a free loopback port, only its textfile collector.
        var exporter: SpawnedProcess?
        var port = 0
        func answers(_ port: Int) -> Bool { (try? Data(contentsOf: URL(string: "http://127.0.0.1:\(port)/metrics")!)) != nil }
        for _ in 0..<10 {
            port = Int.random(in: 20_000..<60_000)
            let p = try SpawnedProcess([nodeExporter, "--web.listen-address=127.0.0.1:\(port)", "--collector.disable-defaults",
                                        "--collector.textfile", "--collector.textfile.directory=\(folder)"],
                                       standardOutput: .discard, standardError: .discard)
            // Serving, or ended (the port was taken: another one).
            waitUntil(timeout: 30) { !p.isRunning || answers(port) }
            if p.isRunning { exporter = p; break }
        }
        let running = try #require(exporter, "node_exporter did not start")
        defer {
            running.terminate()
            running.waitUntilExit()
        }
        var scraped = ""
        try waitFor("node_exporter to answer", timeout: 10) {
            guard let data = try? Data(contentsOf: URL(string: "http://127.0.0.1:\(port)/metrics")!) else { return false }
            scraped = String(decoding: data, as: UTF8.self)
            return true
        }
        // node_exporter orders the labels by name.
        #expect(scraped.contains("massiva_requests_total{status=\"done\",tenant=\"acme\"} 1\n"))
        #expect(scraped.contains("# TYPE massiva_drop_to_result_seconds histogram"))
        #expect(scraped.contains("node_textfile_mtime_seconds{file=\"\(folder)/massiva.prom\"}"))
        #expect(scraped.contains("node_textfile_scrape_error 0\n"))
    }

    /// A metrics file that cannot be written (its folder missing) is logged once and changes
    /// nothing else: the daemon takes the upload and writes its results as ever.
    @Test func theDaemonGoesOnWhenItCannotWriteTheFile() throws {
        let spool = try Spool()
        try "spool_directory = \(spool.spool)\nsettle_time = 0s\nmetrics_file = \(spool.root)/missing/massiva.prom\n"
            .write(toFile: spool.configPath, atomically: false, encoding: .utf8)
        try spool.setUpSamples()
        let daemon = try spool.start(["serve"])
        try spool.copySample("acme-clean.csv", to: "acme")
        try waitFor("the request's results", timeout: 30) {
            spool.list(spool.results("acme")).contains { $0.hasPrefix("MOME-") }
                && ((try? spool.stato(tenant: "acme", id: "MOME-000000001")["status"] as? String) ?? nil) == "done"
        }
        // The first write (after the first pass) failed and was logged; the stop writes once
        // more (the figures as the daemon leaves them), which must not log it again.
        try waitFor("the failed write's log line", timeout: 30) {
            ((try? String(contentsOfFile: daemon.stderr, encoding: .utf8)) ?? "").contains("metrics_write_failed ")
        }
        daemon.process.terminate()
        let result = spool.finish(daemon)
        #expect(result.status == 0)
        #expect(result.stderr.components(separatedBy: "\n").filter { $0.hasPrefix("metrics_write_failed ") }.count == 1,
                "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: spool.root + "/missing"))
    }

    /// The daemon's stop writes the file once more: it ends with the figures of the last pass,
    /// not of the last write before it (writes come at most every 5 s, so the pass that follows
    /// the start-up write within that time would otherwise be missing from it).
    @Test func theStopLeavesTheFiguresOfTheLastPass() throws {
        let spool = try Spool()
        let file = spool.root + "/massiva.prom"
        try "spool_directory = \(spool.spool)\nsettle_time = 0s\nmetrics_file = \(file)\n"
            .write(toFile: spool.configPath, atomically: false, encoding: .utf8)
        try spool.setUpSamples()
        let daemon = try spool.start(["serve"])
        func done(_ tenant: String) -> Bool {
            ((try? spool.stato(tenant: tenant, id: "MOME-000000001")["status"] as? String) ?? nil) == "done"
                || ((try? spool.stato(tenant: tenant, id: "MOME-000000002")["status"] as? String) ?? nil) == "done"
        }
        // The first pass's write goes at once; the second pass comes well within 5 s of it.
        try spool.copySample("acme-clean.csv", to: "acme")
        try waitFor("acme's figures in the file", timeout: 30) {
            ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").contains("massiva_requests_total{tenant=\"acme\",status=\"done\"} 1\n")
        }
        try spool.copySample("voltaic-excel.csv", to: "voltaic")
        try waitFor("voltaic's results", timeout: 30) { done("voltaic") }
        daemon.process.terminate()
        #expect(spool.finish(daemon).status == 0)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains("massiva_requests_total{tenant=\"voltaic\",status=\"done\"} 1\n"), "\(text)")
    }

    /// Every query of the dashboard is PromQL that promtool accepts (as recording rules, Grafana's
    /// variables given values), and every massiva series the dashboard and the alert rules name
    /// is one the file has: a renamed metric breaks this test, not an operator's night.
    @Test func theDashboardAndTheRulesAskForSeriesTheFileHas() throws {
        let promtool = try tool("promtool", package: "prometheus")
        let spool = try Spool()
        let text = try metricsOfTheSamples(spool)
        let families = Set(text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) })

        let dashboard = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: samplesDirectory + "/grafana/massiva.json")))
        let panels = try #require((dashboard as? [String: Any])?["panels"] as? [[String: Any]])
        let expressions = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
        #expect(panels.count >= 10 && expressions.count >= panels.count)
        var rules = "groups:\n  - name: dashboard\n    rules:\n"
        for (i, e) in expressions.enumerated() {
            let promQL = e.replacingOccurrences(of: "$__rate_interval", with: "5m").replacingOccurrences(of: "$instance", with: ".*")
            rules += "      - record: dashboard:panel\(i)\n        expr: '\(promQL.replacingOccurrences(of: "'", with: "''"))'\n"
        }
        let rulesPath = spool.root + "/dashboard-rules.yml"
        try rules.write(toFile: rulesPath, atomically: false, encoding: .utf8)
        let check = try run(promtool, ["check", "rules", rulesPath])
        #expect(check.status == 0, "\(check.output)")

        let alertRules = try String(contentsOfFile: Self.rules, encoding: .utf8)
        let corpus = expressions.joined(separator: " ") + " " + alertRules
        let used = Set(corpus.matches(of: try Regex("massiva_[a-z_]+")).map { String(corpus[$0.range]) })
        #expect(used.count >= 15)
        for name in used {
            let family = ["_bucket", "_sum", "_count"].reduce(name) { n, suffix in
                n.hasSuffix(suffix) && families.contains(String(n.dropLast(suffix.count))) ? String(n.dropLast(suffix.count)) : n
            }
            #expect(families.contains(family), "the dashboard or the rules name \(name), which the metrics file does not have")
        }
    }
}
