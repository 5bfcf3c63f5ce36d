import Foundation
import Glibc
import Testing

/// `probe_command` through the real binary, with small real scripts as probes: each exit
/// status, the timeout, the output in the log, the bound on concurrent probes.
@Suite struct ProbeCommandTests {
    /// The sample file's first `rows` data rows: each of them gets as far as the probe
    /// (check 15) with the sample registry.
    static func request(_ rows: Int) throws -> String {
        let lines = try String(contentsOfFile: samplesDirectory + "/requests/acme-clean.csv", encoding: .utf8)
            .split(whereSeparator: \.isNewline)
        return lines.prefix(rows + 1).joined(separator: "\n") + "\n"
    }

    /// A spool whose probe_command is the script `body` (sh), called as
    /// `probe ${pod} --tenant ${tenant} ${sid} ${request}`.
    static func spool(probe body: String, config: String = "") throws -> Spool {
        let spool = try Spool()
        try spool.setUpSamples()
        try spool.script("probe", body)
        try spool.appendConfig("""
            probe_command = \(spool.root)/probe ${pod} --tenant ${tenant} ${sid} ${request}
            \(config)
            """)
        return spool
    }

    @Test func exitZeroIsReachableAndTheArgumentsAreWholeValues() throws {
        let spool = try Self.spool(probe: """
            printf '%s\\n' "$@" > "$(dirname "$0")/args-$1"
            exit 0
            """)
        try spool.drop(try Self.request(3), as: "tre.csv")
        let r = try spool.ok(["serve", "--once"])
        let id = try #require(try spool.requestIDs(tenant: "acme", file: "tre.csv").first)
        let rows = try spool.esito(tenant: "acme", id: id)
        #expect(rows.map { $0["CODICE"] } == ["OK", "OK", "OK"], "\(r.stderr)")
        #expect(rows.map { $0["TENTATIVI"] } == ["1", "1", "1"])
        let args = try String(contentsOfFile: spool.root + "/args-IT001E00000001", encoding: .utf8)
        #expect(args == "IT001E00000001\n--tenant\nacme\n16MOMSPC300000001\n\(id)\n")
    }

    @Test func exitOneIsUnreachableSpendsAnAttemptAndItsOutputIsLogged() throws {
        let spool = try Self.spool(probe: """
            echo "no answer from $1"
            exit 1
            """)
        try spool.drop(try Self.request(2), as: "due.csv")
        let r = try spool.ok(["serve", "--once"])
        let id = try #require(try spool.requestIDs(tenant: "acme", file: "due.csv").first)
        let rows = try spool.esito(tenant: "acme", id: id)
        #expect(rows.map { $0["CODICE"] } == ["METER_UNREACHABLE", "METER_UNREACHABLE"])
        #expect(rows.map { $0["TENTATIVI"] } == ["1", "1"])
        #expect(r.stderr.contains("probe pod=IT001E00000001 request=\(id) status=1 output=\"no answer from IT001E00000001\""))
        #expect(try spool.sqlInt("SELECT count(*) FROM associations") == 0)
    }

    /// 75 (EX_TEMPFAIL): the back end is down. The pass is undone (nothing recorded, no
    /// attempt spent), the work pauses; once the probe answers, the rows get their first attempt.
    @Test func exitSeventyFiveIsAnOutageThatSpendsNoAttempt() throws {
        let spool = try Self.spool(probe: """
            echo "head-end down" >&2
            exit 75
            """)
        try spool.drop(try Self.request(3), as: "giu.csv")
        let r = try spool.ok(["serve", "--once"])
        #expect(r.stderr.contains("probe_tempfail"))
        #expect(r.stderr.contains("head-end down"))
        #expect(r.stderr.contains("registry_unavailable"))
        #expect(try spool.sql("SELECT status FROM requests") == [["queued"]])
        #expect(try spool.sqlInt("SELECT count(*) FROM rows") == 0)
        #expect(try spool.sqlInt("SELECT count(*) FROM associations") == 0)

        try spool.script("probe", "exit 0")
        try spool.ok(["serve", "--once"])
        let id = try #require(try spool.requestIDs(tenant: "acme", file: "giu.csv").first)
        let rows = try spool.esito(tenant: "acme", id: id)
        #expect(rows.map { $0["CODICE"] } == ["OK", "OK", "OK"])
        #expect(rows.map { $0["TENTATIVI"] } == ["1", "1", "1"])
    }

    /// Any other status, a signal, or a program that cannot be run: the back end's failure,
    /// logged with the probe's output; no attempt spent, so a broken script never burns them.
    @Test(arguments: [
        ("echo 'syntax trouble' >&2; exit 2", "status=2"),
        ("echo 'about to die' >&2; kill -KILL $$", "signal=9"),
        ("exit 126", "status=126"),
    ])
    func anyOtherEndIsTheBackEndsFailure(body: String, logged: String) throws {
        let spool = try Self.spool(probe: body)
        try spool.drop(try Self.request(2), as: "rotto.csv")
        let r = try spool.ok(["serve", "--once"])
        #expect(r.stderr.contains("probe_failed"), "\(r.stderr)")
        #expect(r.stderr.contains(logged), "\(r.stderr)")
        #expect(r.stderr.contains("registry_unavailable"))
        #expect(try spool.sql("SELECT status FROM requests") == [["queued"]])
        #expect(try spool.sqlInt("SELECT count(*) FROM rows") == 0)
    }

    @Test func aProbeThatCannotBeStartedSpendsNoAttempt() throws {
        let spool = try Self.spool(probe: "exit 0")
        try FileManager.default.removeItem(atPath: spool.root + "/probe")
        try spool.drop(try Self.request(1), as: "manca.csv")
        let r = try spool.ok(["serve", "--once"])
        #expect(r.stderr.contains("probe_failed"))
        #expect(r.stderr.contains("registry_unavailable"))
        #expect(try spool.sqlInt("SELECT count(*) FROM rows") == 0)
    }

    /// One request's pass is all or nothing: one row's back end down undoes the rows whose
    /// meters answered (no association made), and the whole request waits.
    @Test func oneOutageUndoesTheWholeRequest() throws {
        let spool = try Self.spool(probe: """
            [ "$1" = IT001E00000007 ] && exit 75
            exit 0
            """)
        try spool.drop(try Self.request(4), as: "misto.csv")
        try spool.ok(["serve", "--once"])
        #expect(try spool.sqlInt("SELECT count(*) FROM associations") == 0)
        #expect(try spool.sqlInt("SELECT count(*) FROM rows") == 0)
        #expect(try spool.sqlInt("SELECT count(*) FROM audit") == 0)
        #expect(try spool.sql("SELECT status FROM requests") == [["queued"]])
    }

    /// Still running at probe_timeout: killed with everything it started (its process group),
    /// and the meter counts as unreachable (an attempt spent).
    @Test func aProbeStillRunningAtTheTimeoutIsKilledAndTheMeterIsUnreachable() throws {
        let spool = try Self.spool(probe: """
            sleep 300 &
            echo $! > "$(dirname "$0")/child"
            echo $$ > "$(dirname "$0")/pid"
            echo "waiting for the head-end"
            wait
            """, config: "probe_timeout = 1s")
        try spool.drop(try Self.request(1), as: "lento.csv")
        let r = try spool.ok(["serve", "--once"])
        #expect(r.stderr.contains("probe_timeout pod=IT001E00000001"), "\(r.stderr)")
        #expect(r.stderr.contains("waiting for the head-end"))
        #expect(try spool.sql("SELECT state, code, attempts FROM rows") == [["waiting", "METER_UNREACHABLE", "1"]])
        for name in ["pid", "child"] {
            let text = try String(contentsOfFile: spool.root + "/" + name, encoding: .utf8)
            let pid = try #require(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
            var tries = 0  // SIGKILL is delivered, not waited for: a guard, not a speed target
            while isRunning(pid) && tries < 500 { usleep(10_000); tries += 1 }
            #expect(!isRunning(pid), "\(name) \(pid) still running")
        }
    }

    @Test func theOutputInTheLogIsBounded() throws {
        let spool = try Self.spool(probe: """
            i=0
            while [ $i -lt 2000 ]; do echo "line $i of a chatty probe, more than fifty bytes long"; i=$((i+1)); done
            exit 1
            """)
        try spool.drop(try Self.request(1), as: "loquace.csv")
        let r = try spool.ok(["serve", "--once"])
        let line = try #require(r.stderr.split(separator: "\n").first { $0.hasPrefix("probe pod=") })
        #expect(line.count < 3000)
        #expect(line.contains("more bytes]"))
        #expect(try spool.sql("SELECT code FROM rows") == [["METER_UNREACHABLE"]])
    }

    /// Probes overlap and never exceed probe_concurrency. The first four probes to start wait
    /// until all four run at once (so the rows can only succeed if they overlap); every probe
    /// notes how many run as it starts, which must never be more than four.
    @Test func probesRunConcurrentlyWithinTheBound() throws {
        let spool = try Self.spool(probe: """
            dir=$(dirname "$0")
            mkdir -p "$dir/active"
            touch "$dir/active/$$"
            trap 'rm -f "$dir/active/$$"' EXIT
            ls "$dir/active" | wc -l >> "$dir/seen"
            n=1; while ! mkdir "$dir/arrival.$n" 2>/dev/null; do n=$((n+1)); done
            if [ $n -le 4 ]; then
                tries=0
                while [ "$(ls "$dir/active" | wc -l)" -lt 4 ]; do
                    tries=$((tries+1)); [ $tries -gt 600 ] && exit 1
                    sleep 0.05
                done
                sleep 0.3
            fi
            exit 0
            """, config: "probe_concurrency = 4")
        try spool.drop(try Self.request(12), as: "parallelo.csv")
        try spool.ok(["serve", "--once"])
        let id = try #require(try spool.requestIDs(tenant: "acme", file: "parallelo.csv").first)
        #expect(try spool.esito(tenant: "acme", id: id).map { $0["CODICE"] } == Array(repeating: "OK", count: 12))
        let seen = try String(contentsOfFile: spool.root + "/seen", encoding: .utf8)
            .split(separator: "\n").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        #expect(seen.count == 12)
        #expect(seen.max() == 4)
    }

    /// A row whose meter did not answer is probed again when due; its attempts count on.
    @Test func aWaitingRowIsProbedAgainWhenDue() throws {
        let spool = try Self.spool(probe: """
            dir=$(dirname "$0")
            if mkdir "$dir/first-$1" 2>/dev/null; then exit 1; fi
            exit 0
            """)
        try spool.drop(try Self.request(2), as: "riprova.csv")
        try spool.ok(["serve", "--once"])
        #expect(try spool.sql("SELECT code, attempts FROM rows ORDER BY position") == [["METER_UNREACHABLE", "1"], ["METER_UNREACHABLE", "1"]])
        try spool.serveUntil { try spool.sql("SELECT status FROM requests") == [["done"]] }
        #expect(try spool.sql("SELECT code, attempts FROM rows ORDER BY position") == [["OK", "2"], ["OK", "2"]])
    }

    /// The single services ask the same probe: unreachable is exit 4, the back end down exit 5
    /// (Servizio non disponibile), and neither makes an association.
    @Test(arguments: [("exit 0", Int32(0)), ("exit 1", Int32(4)), ("exit 75", Int32(5)), ("exit 7", Int32(5))])
    func associateAndSearchAskTheProbe(body: String, status: Int32) throws {
        let spool = try Self.spool(probe: """
            printf '%s\\n' "$@" > "$(dirname "$0")/args"
            \(body)
            """)
        let search = try spool.run(["search", "IT001E00000001", "--tenant", "acme"])
        #expect(search.status == status, "\(search.stderr)")
        let associate = try spool.run(["associate", "--tenant", "acme", "--pod", "IT001E00000001", "--sid", "16MOMSPC300000001",
                                       "--type", "Standard", "--out", spool.root])
        #expect(associate.status == status, "\(associate.stderr)")
        #expect(try spool.sqlInt("SELECT count(*) FROM associations") == (status == 0 ? 1 : 0))
        let args = try String(contentsOfFile: spool.root + "/args", encoding: .utf8)
        #expect(args == "IT001E00000001\n--tenant\nacme\n16MOMSPC300000001\n\n", "no request for a single association")
    }

    /// A daemon given a capability as an ambient one (systemd's AmbientCapabilities=) keeps it,
    /// and the programs it runs do not inherit it. Needs root and setpriv(1).
    @Test(.enabled(if: getuid() == 0 && access("/usr/bin/setpriv", X_OK) == 0))
    func probesDoNotInheritTheDaemonsAmbientCapabilities() throws {
        let spool = try Self.spool(probe: """
            grep CapAmb /proc/self/status > "$(dirname "$0")/caps"
            exit 0
            """)
        let check = try spool.run(["/usr/bin/setpriv", "--inh-caps", "+dac_read_search", "--ambient-caps", "+dac_read_search",
                                   "/bin/sh", "-c", "grep CapAmb /proc/self/status"], binary: "/usr/bin/setpriv")
        #expect(check.stdout.contains("0000000000000004"), "setpriv gives the ambient capability: \(check.stderr)")
        try spool.drop(try Self.request(1), as: "cap.csv")
        let r = try spool.run(["/usr/bin/setpriv", "--inh-caps", "+dac_read_search", "--ambient-caps", "+dac_read_search",
                               massivaBinary, "serve", "--once"], binary: "/usr/bin/setpriv")
        #expect(r.status == 0, "\(r.stderr)")
        let caps = try String(contentsOfFile: spool.root + "/caps", encoding: .utf8)
        #expect(caps.contains("0000000000000000"), "\(caps)")
    }

    /// The registry changes between the probes and the pass (here: the probe of the first row
    /// dissociates the association that held the second row's device, through the real
    /// command): the second row now reaches check 15 without an answer, so the request's pass is
    /// undone and planned again, and both rows end associated, each tried once.
    @Test func aRowThatReachesItsProbeOnlyInThePassIsPlannedAgain() throws {
        let spool = try Self.spool(probe: """
            if [ "$1" = IT001E00000001 ]; then
                "\(massivaBinary)" dissociate --tenant acme --pod IT001E00000004 >/dev/null 2>&1
            fi
            exit 0
            """)
        try spool.ok(["associate", "--tenant", "acme", "--pod", "IT001E00000004", "--sid", "16MOMSPC300000002",
                      "--type", "Standard", "--out", spool.root])
        try spool.drop("""
            POD;Identificativo MOME/Smart INFO;Tipo Configurazione
            IT001E00000001;16MOMSPC300000001;Standard
            IT001E00000003;16MOMSPC300000002;Standard

            """, as: "cambia.csv")
        let r = try spool.ok(["serve", "--once"])
        #expect(r.stderr.contains("probe_replanned"), "\(r.stderr)")
        #expect(try spool.sql("SELECT pod, code, attempts FROM rows ORDER BY position")
                == [["IT001E00000001", "OK", "1"], ["IT001E00000003", "OK", "1"]])
        #expect(try spool.sql("SELECT sid FROM associations WHERE pod = 'IT001E00000003'") == [["16MOMSPC300000002"]])
    }

    @Test func probeCommandIsCheckedWhenTheConfigurationIsRead() throws {
        let spool = try Spool(extraConfig: "probe_command = /bin/probe --pod=${pod}")
        let r = try spool.run(["config"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("massiva.cf:6: probe_command: a placeholder must be a whole argument"), "\(r.stderr)")
    }
}

func isRunning(_ pid: Int32) -> Bool {
    // Gone, or a zombie nobody has reaped yet (its parent died: init's to reap).
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}

extension Spool {
    /// Writes an executable sh script `name` in the spool's root.
    func script(_ name: String, _ body: String) throws {
        let path = root + "/" + name
        let temporary = path + ".new"
        try ("#!/bin/sh\n" + body + "\n").write(toFile: temporary, atomically: false, encoding: .utf8)
        chmod(temporary, 0o755)
        rename(temporary, path)  // never "text file busy" for a probe running the old one
    }

    func appendConfig(_ text: String) throws {
        let old = try String(contentsOfFile: configPath, encoding: .utf8)
        try (old + "\n" + text + "\n").write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// Drops a request file: written under a dot-name, then renamed.
    func drop(_ content: String, as name: String, tenant: String = "acme") throws {
        let partial = incoming(tenant) + "/." + name
        try content.write(toFile: partial, atomically: false, encoding: .utf8)
        rename(partial, incoming(tenant) + "/" + name)
    }
}
