import Dispatch
import Foundation
import Glibc
import Testing
import MassivaConfig

/// Every value is checked when it is read, with file and line: a value that parses but crashes
/// later (a timer, a retry time, a timestamp) or a path no one can name is refused at once.
@Suite struct ConfigurationLimitsTests {
    func problem(_ text: String) -> ConfigurationError? {
        do {
            _ = try Configuration.parse(text, source: "t.cf", relativeTo: "/srv")
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        "rescan_interval = 213504d",
        "settle_time = 9223372036854775s",
        "maximal_backoff_time = 9223372036854775807",
        "outage_maximal_backoff_time = 366d",
        "minimal_backoff_time = 8761h",
        "rescan_interval = 0s",
        "rescan_interval = 50ms",
        "max_file_size = 9223372036854775807",
        "max_file_size = 65m",
        "max_rows = 100001",
        "max_attempts = 1001",
        "active_queue_limit = 9223372036854775807",
        "max_rows = ",
    ])
    func outOfRangeValuesAreRefusedWithTheirLine(line: String) throws {
        let error = try #require(problem("# first\n" + line + "\n"))
        #expect(error.line == 2)
        #expect(error.description.hasPrefix("t.cf:2: "))
    }

    @Test func theLargestValuesAreAccepted() throws {
        let configuration = try Configuration.parse("""
            settle_time = 365d
            rescan_interval = 100ms
            minimal_backoff_time = 365d
            maximal_backoff_time = 365d
            outage_maximal_backoff_time = 8760h
            max_file_size = 64m
            max_rows = 100000
            """, source: "t.cf", relativeTo: "/srv")
        #expect(configuration.settleTime == 365 * 86_400)
        #expect(configuration.maxFileSize == 64 << 20)
    }

    @Test func crlfLineEndsAreRead() throws {
        let configuration = try Configuration.parse(
            "spool_directory = /var/spool/x\r\nmax_rows = 7\r\n  # comment\r\nsettle_time = 3s\r\n", source: "t.cf", relativeTo: "/srv")
        #expect(configuration.spoolDirectory == "/var/spool/x")
        #expect(configuration.maxRows == 7)
        #expect(configuration.settleTime == 3)
    }

    @Test(arguments: ["spool_directory = /a\rb", "spool_directory = /a\u{1B}[0m", "spool_directory = /a\u{85}b",
                      "authorized_keys_directory = /a\u{7F}", "max_rows = 1\r2", "spool_directory = /a\u{0}"])
    func controlCharactersAreRefused(line: String) throws {
        let error = try #require(problem("max_rows = 3\n" + line + "\nsettle_time = 1s\n"))
        #expect(error.line == 2)
        #expect(error.message.contains("control character"))
    }

    @Test func aFIFOOrADeviceIsRefusedAtOnce() throws {
        let directory = NSTemporaryDirectory() + "massiva-config-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fifo = directory + "/fifo.cf"
        #expect(mkfifo(fifo, 0o644) == 0)
        // Refused without opening them for reading: a FIFO with no writer would block that open
        // for ever, /dev/zero never ends. Waited for as an event: the loads finish (the limit
        // only turns a hang into a failure; at once is a few milliseconds, whatever the load).
        let finished = DispatchSemaphore(value: 0)
        final class Refusals: @unchecked Sendable { var count = 0 }  // read after the signal only
        let refused = Refusals()
        DispatchQueue.global().async {
            for path in [fifo, "/dev/zero", directory] {
                do { _ = try Configuration.load(path: path) } catch is ConfigurationError { refused.count += 1 } catch {}
            }
            finished.signal()
        }
        #expect(finished.wait(timeout: .now() + 60) == .success, "loading a FIFO or a device blocked")
        #expect(refused.count == 3)
        do {
            _ = try Configuration.load(path: "/dev/zero")
        } catch {
            #expect(error.description.contains("not a regular file"))
        }
        // A regular file over the limit is refused, not read without end.
        let big = directory + "/big.cf"
        try Data(repeating: 0x23, count: Configuration.maximumFileSize + 1).write(to: URL(fileURLWithPath: big))
        do {
            _ = try Configuration.load(path: big)
            Issue.record("a file over the limit was read")
        } catch {
            #expect(error.description.contains("larger than"))
        }
    }
}
