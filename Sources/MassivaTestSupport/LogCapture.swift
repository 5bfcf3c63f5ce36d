import Dispatch
import Synchronization

/// The lines an `EventLog` wrote.
public final class LogCapture: Sendable {
    private let stored = Mutex<[String]>([])

    private let appended = DispatchSemaphore(value: 0)

    public init() {}

    public func append(_ line: String) {
        stored.withLock { $0.append(line) }
        appended.signal()
    }

    /// Waits until a line satisfies `predicate` (woken by each line logged, not polling); false
    /// after `timeout` seconds, a guard against a hang, not a speed target.
    public func wait(timeout: Double = 120, for predicate: (String) -> Bool) -> Bool {
        let deadline = DispatchTime.now() + .milliseconds(Int(timeout * 1000))
        while !lines.contains(where: predicate) {
            if appended.wait(timeout: deadline) == .timedOut { return lines.contains(where: predicate) }
        }
        return true
    }
    public var lines: [String] { stored.withLock { $0 } }
    public func events(_ name: String) -> [String] { lines.filter { $0 == name || $0.hasPrefix(name + " ") } }
}
