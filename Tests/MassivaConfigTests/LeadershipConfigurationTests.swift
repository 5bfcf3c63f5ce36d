import Testing
import MassivaConfig

/// `leader_lease_time` and `node_name` (issue 21): defaults, and absurd values refused with
/// the file, the line and what was expected.
@Suite struct LeadershipConfigurationTests {
    func parse(_ text: String) throws -> Configuration {
        try Configuration.parse(text, source: "t.cf", relativeTo: "/srv")
    }

    @Test func defaults() throws {
        let configuration = try parse("")
        #expect(configuration.leaderLeaseTime == 15)
        #expect(configuration.nodeName == "")
        #expect(try parse("leader_lease_time = 2s\nnode_name = host-a.example_1").nodeName == "host-a.example_1")
        #expect(try parse("leader_lease_time = 2s").leaderLeaseTime == 2)
    }

    @Test(arguments: [
        ("leader_lease_time = 0s", "leader_lease_time: at least 1s"),
        ("leader_lease_time = 500ms", "leader_lease_time: at least 1s"),
        ("leader_lease_time = 2h", "leader_lease_time: at most 1h"),
        ("leader_lease_time = soon", "leader_lease_time"),
        ("node_name = ../etc", "node_name: expected a name"),
        ("node_name = -x", "node_name: expected a name"),
        ("node_name = .hidden", "node_name: expected a name"),
        ("node_name = a b", "node_name: expected a name"),
        ("node_name = " + String(repeating: "n", count: 65), "node_name: expected a name"),
    ])
    func absurdValuesAreRefused(line: String, expected: String) {
        let error = #expect(throws: ConfigurationError.self) { try parse(line) }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains(expected) && text.contains("t.cf"), "\(text)")
    }
}
