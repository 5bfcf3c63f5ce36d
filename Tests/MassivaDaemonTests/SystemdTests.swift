import Foundation
import Glibc
import Testing

/// A real AF_UNIX datagram socket standing in for systemd's notify socket.
final class NotifyListener {
    let path: String
    private let fd: Int32

    /// - Parameter receiveBuffer: `SO_RCVBUF` when given (the kernel doubles it and applies
    ///   its minimum): a small queue, full after a few datagrams.
    init(directory: String, receiveBuffer: Int32? = nil) throws {
        path = directory + "/notify.sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() where i < raw.count - 1 { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Every datagram received until `seconds` pass or `until` holds for what came so far.
    func receive(for seconds: Double, until: ([String]) -> Bool) -> [String] {
        var messages: [String] = []
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline && !until(messages) {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 { messages.append(String(decoding: buffer[0..<n], as: UTF8.self)) }
        }
        return messages
    }
}

@Suite(.serialized) struct SystemdTests {
    @Test func notifiesReadyStatusWatchdogAndStopping() throws {
        let h = try DaemonHarness()
        let listener = try NotifyListener(directory: h.root)
        let daemon = try h.startDaemon(environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "400000"])
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        let early = listener.receive(for: 10) { messages in
            messages.contains { $0.contains("READY=1") } && messages.contains { $0.contains("WATCHDOG=1") }
        }
        let ready = early.first { $0.contains("READY=1") }
        #expect(ready != nil)
        #expect(ready?.contains("STATUS=queued 0") == true)
        #expect(early.contains { $0.contains("WATCHDOG=1") })
        // Pings keep coming at half the interval.
        let later = listener.receive(for: 2) { $0.filter { $0.contains("WATCHDOG=1") }.count >= 2 }
        #expect(later.filter { $0.contains("WATCHDOG=1") }.count >= 2)
        kill(daemon.processIdentifier, SIGTERM)
        let last = listener.receive(for: 5) { $0.contains { $0.contains("STOPPING=1") } }
        #expect(last.contains { $0.contains("STOPPING=1") })
        daemon.waitUntilExit()
        #expect(daemon.terminationStatus == 0)
    }

    /// A notify socket nobody reads (a stuck manager, a stale NOTIFY_SOCKET): its queue fills
    /// after a few datagrams, and a blocking send would stop the engine's queue for good.
    @Test func aNotifySocketNobodyReadsNeverStopsTheDaemon() throws {
        let h = try DaemonHarness()
        // Bound, never read; the smallest receive buffer so it fills at once.
        let listener = try NotifyListener(directory: h.root, receiveBuffer: 1)
        _ = listener
        let daemon = try h.startDaemon(environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "20000"])
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        // Watchdog pings every 10 ms and a STATUS after every burst: far more than the queue holds.
        for i in 0..<30 {
            try h.drop(SampleRows.clean(count: 1, firstPOD: 1 + i, firstSID: 1 + i), as: "n\(i).csv")
            usleep(20_000)
        }
        let allDone = h.waitUntil(30) {
            (0..<30).allSatisfy { i in
                let id = String(format: "MOME-%09d", i + 1)
                return (h.stato("acme", id)?["status"] as? String) == "done"
            }
        }
        #expect(allDone, "every file taken and processed: \(h.log.suffix(2000))")
        let started = Date()
        kill(daemon.processIdentifier, SIGTERM)
        let exited = h.waitUntil(5) { !daemon.isRunning }
        #expect(exited, "SIGTERM stops it within 5 s")
        if exited { #expect(daemon.terminationStatus == 0) }
        #expect(Date().timeIntervalSince(started) < 5)
    }

    static let systemdAnalyze = "/usr/bin/systemd-analyze"

    /// The package's unit (Tests/system/package-test checks it as shipped, and
    /// Tests/system/boot-test under a real systemd).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: systemdAnalyze), "needs /usr/bin/systemd-analyze"))
    func thePackagedUnitPassesSystemdAnalyzeVerify() throws {
        let analyze = Self.systemdAnalyze
        let unit = try String(contentsOfFile: DaemonHarness.packageRoot + "/packaging/massiva.service", encoding: .utf8)
        #expect(unit.contains("Type=notify"))
        #expect(unit.contains("ProtectSystem=strict") && unit.contains("ReadWritePaths=") && unit.contains("NoNewPrivileges=yes"))
        // verify checks that ExecStart exists: point it at the binary built here.
        let directory = NSTemporaryDirectory() + "massiva-unit-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let copy = directory + "/massiva.service"
        try unit.replacingOccurrences(of: "/usr/bin/massiva", with: DaemonHarness.binary)
            .write(toFile: copy, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: analyze)
        // --man=no: the man pages of Documentation= are not installed here (package-test checks them).
        process.arguments = ["verify", "--man=no", copy]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        // Only complaints about this unit count (a container's own units may be noisy).
        let ours = text.split(separator: "\n").filter { $0.contains("massiva.service") }
        #expect(process.terminationStatus == 0 || ours.isEmpty, "systemd-analyze: \(text)")
        #expect(ours.isEmpty, "systemd-analyze: \(ours.joined(separator: "\n"))")
    }
}
