import Dispatch
import Glibc
import MassivaSystem
import Testing

/// `ChildProcess`: real programs (`/bin/sh`), each way a program can end.
@Suite struct ChildProcessTests {
    func sh(_ script: String, timeout: Double = 60, limit: Int = 4096,
            cancellation: ChildProcess.Cancellation? = nil) throws -> ChildProcess.Outcome {
        try ChildProcess.run(["/bin/sh", "-c", script], timeout: timeout, outputLimit: limit, cancellation: cancellation)
    }

    @Test(arguments: [0, 1, 75, 3])
    func theExitStatusIsReported(status: Int32) throws {
        #expect(try sh("exit \(status)").termination == .exited(status))
    }

    @Test func stdoutAndStderrAreCapturedTogether() throws {
        let outcome = try sh("echo out; echo err >&2")
        #expect(outcome.outputText == "out\nerr")
        #expect(outcome.droppedBytes == 0)
    }

    @Test func stdinIsEmpty() throws {
        #expect(try sh("cat; echo end").outputText == "end")
    }

    /// Blocked and ignored signals are put back to their defaults in the child: a daemon blocks
    /// SIGTERM in every thread and ignores SIGPIPE, and a child would keep both through exec.
    @Test func theChildGetsDefaultSignals() throws {
        try SignalMask.block([.terminate])
        defer { try? SignalMask.unblock([.terminate]) }
        #expect(try sh("kill -TERM $$; exit 0").termination == .signalled(SIGTERM))
    }

    @Test func theOutputIsBoundedAndTheRestDrained() throws {
        let outcome = try sh("head -c 200000 /dev/zero | tr '\\0' x || exit 9; exit 1", limit: 1000)
        #expect(outcome.termination == .exited(1), "a full pipe never blocks the program")
        #expect(outcome.output.count == 1000)
        #expect(outcome.droppedBytes == 199_000)
        #expect(outcome.outputText.hasSuffix("[... 199000 more bytes]"))
    }

    /// At the deadline the process group is killed: the program and what it started.
    @Test func theTimeoutKillsTheWholeGroup() throws {
        let outcome = try sh("sleep 300 & echo $!; wait", timeout: 0.3)
        #expect(outcome.termination == .timedOut)
        let child = try #require(Int32(outcome.outputText))
        #expect(gone(child))
    }

    /// A program that ends leaves nothing behind either, even holding its output open.
    @Test func whatAProgramLeftRunningIsKilledWhenItEnds() throws {
        let outcome = try sh("sleep 300 & echo $!; exit 0")
        #expect(outcome.termination == .exited(0))
        let child = try #require(Int32(outcome.outputText))
        #expect(gone(child))
    }

    @Test func cancellingKillsWhatRunsAndStartsNothingMore() throws {
        let cancellation = ChildProcess.Cancellation()
        try withTemporaryDirectory { (dir: String) throws -> Void in
            let done = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var result: ChildProcess.Outcome?
            DispatchQueue.global().async {
                result = try? ChildProcess.run(["/bin/sh", "-c", "touch \(dir)/started; exec sleep 300"], timeout: 600,
                                               cancellation: cancellation)
                done.signal()
            }
            while access(dir + "/started", F_OK) != 0 { usleep(10_000) }
            cancellation.cancel()
            done.wait()
            #expect(result?.termination == .cancelled)
        }
        #expect(try sh("exit 0", cancellation: cancellation).termination == .cancelled)
    }

    @Test func aMissingProgramIsAnError() {
        #expect(throws: SystemError.self) { try ChildProcess.run(["/nonexistent/probe"], timeout: 5) }
    }

    /// SIGKILL is delivered, not waited for (a grandchild is not ours to reap): polls a while,
    /// a guard against waiting for ever, not a speed target.
    func gone(_ pid: Int32) -> Bool {
        var tries = 0
        while running(pid) && tries < 500 { usleep(10_000); tries += 1 }
        return !running(pid)
    }

    func running(_ pid: Int32) -> Bool {
        guard let stat = try? FileDescriptor.open("/proc/\(pid)/stat", .readOnly), let bytes = try? stat.read(upTo: 4096).bytes else {
            return false
        }
        try? stat.close()
        let text = String(decoding: bytes, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return false }
        let state = text[text.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }
}
