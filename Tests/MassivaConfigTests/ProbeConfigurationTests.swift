import Testing
import MassivaConfig

/// probe_command, association_command and their limits: read, range-checked, errors with the line.
@Suite struct ProbeConfigurationTests {
    func parse(_ text: String) throws(ConfigurationError) -> Configuration {
        try Configuration.parse(text, source: "massiva.cf", relativeTo: "/srv")
    }

    func problem(_ text: String) -> String? {
        do { _ = try parse(text); return nil } catch { return error.description }
    }

    @Test func theDefaults() {
        let c = Configuration.defaults
        #expect(c.probeCommand == nil && c.associationCommand == nil)
        #expect(c.probeTimeout == 10 && c.probeConcurrency == 16 && c.associationTimeout == 30)
    }

    @Test func placeholdersAreWholeArguments() throws {
        let c = try parse("""
            probe_command = /usr/lib/massiva/probe-hes --pod ${pod} ${tenant}\t${sid} ${request}
            probe_timeout = 2s
            probe_concurrency = 32
            association_command = /usr/lib/massiva/notify ${event}
                ${key} ${pod} ${sid} ${nid} ${tenant} ${request}
            """)
        let probe = try #require(c.probeCommand)
        #expect(probe.arguments(["pod": "IT001E00000001", "tenant": "a b", "sid": "$(reboot)", "request": "MOME-000000001"])
                == ["/usr/lib/massiva/probe-hes", "--pod", "IT001E00000001", "a b", "$(reboot)", "MOME-000000001"])
        #expect(c.probeTimeout == 2 && c.probeConcurrency == 32)
        #expect(c.associationCommand?.arguments(["event": "associated", "key": "k"]).prefix(3)
                == ["/usr/lib/massiva/notify", "associated", "k"])
        // Written back as read: the configuration's lines parse to the same configuration.
        #expect(try parse(c.lines(onlyNonDefault: true).joined(separator: "\n")) == c)
    }

    @Test(arguments: [
        ("probe_command = probe-hes ${pod}", "massiva.cf:1: probe_command: the program must be an absolute path"),
        ("probe_command = /bin/probe --pod=${pod}", "massiva.cf:1: probe_command: a placeholder must be a whole argument"),
        ("probe_command = /bin/probe ${event}", "massiva.cf:1: probe_command: unknown placeholder \"${event}\""),
        ("\nassociation_command = ${pod} /bin/x", "massiva.cf:2: association_command: the program must be an absolute path"),
        ("probe_timeout = 0s", "massiva.cf:1: probe_timeout: at least 1ms"),
        ("probe_timeout = 2h", "massiva.cf:1: probe_timeout: at most 1h"),
        ("probe_concurrency = 0", "massiva.cf:1: probe_concurrency: expected a whole number from 1 to 256"),
        ("probe_concurrency = 257", "massiva.cf:1: probe_concurrency: expected a whole number from 1 to 256"),
        ("association_timeout = 0s", "massiva.cf:1: association_timeout: at least 1ms"),
        ("association_minimal_backoff_time = 1m\nassociation_maximal_backoff_time = 10s",
         "massiva.cf:2: association_maximal_backoff_time (10s) must not be shorter than association_minimal_backoff_time (1m)"),
    ])
    func badValuesAreRefusedWithTheirLine(text: String, message: String) {
        let found = problem(text)
        #expect(found?.hasPrefix(message) == true, "\(found ?? "accepted")")
    }

    @Test func anEmptyCommandIsNone() throws {
        #expect(try parse("probe_command =").probeCommand == nil)
    }
}
