#if canImport(Glibc)
import Glibc
#endif

/// The systemd notification protocol (`sd_notify`) without libsystemd.
///
/// Reads `NOTIFY_SOCKET` (a filesystem path, or an abstract socket name when it starts
/// with `@`) and sends `KEY=VALUE` datagrams over an `AF_UNIX`/`SOCK_DGRAM` socket.
/// Without `NOTIFY_SOCKET` (not run by systemd with `Type=notify`) every call is a no-op.
public struct SystemdNotifier: Hashable, Sendable {
    /// The socket address from `NOTIFY_SOCKET`, or nil when notifications are disabled.
    public let socketPath: String?

    /// The watchdog interval in seconds from `WATCHDOG_USEC`, or nil when no watchdog is
    /// configured (or `WATCHDOG_PID` is set and is another process). Send `watchdog()` at
    /// about half this interval.
    public let watchdogInterval: Double?

    /// A notifier configured from the process environment.
    public init() {
        func variable(_ name: String) -> String? {
            guard let value = getenv(name) else { return nil }
            return String(cString: value)
        }
        self.init(notifySocket: variable("NOTIFY_SOCKET"), watchdogMicroseconds: variable("WATCHDOG_USEC"),
                  watchdogPID: variable("WATCHDOG_PID"))
    }

    /// A notifier configured from given values of `NOTIFY_SOCKET`, `WATCHDOG_USEC` and
    /// `WATCHDOG_PID` (useful for tests).
    public init(notifySocket: String?, watchdogMicroseconds: String? = nil, watchdogPID: String? = nil) {
        socketPath = (notifySocket?.isEmpty ?? true) ? nil : notifySocket
        var interval: Double?
        if let text = watchdogMicroseconds, let microseconds = UInt64(text), microseconds > 0 {
            interval = Double(microseconds) / 1e6
        }
        if let pidText = watchdogPID, Int32(pidText) != getpid() {
            interval = nil
        }
        watchdogInterval = interval
    }

    /// Whether `NOTIFY_SOCKET` was set.
    public var isEnabled: Bool { socketPath != nil }

    /// Sends `state` (newline-separated `KEY=VALUE` assignments) as one datagram, without
    /// ever blocking. Returns false when it was dropped because the socket's queue is full
    /// (`EAGAIN`: nobody reads it); does nothing (and returns true) when disabled.
    @discardableResult
    public func notify(_ state: String) throws(SystemError) -> Bool {
        guard let socketPath else { return true }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var name = Array(socketPath.utf8)
        let abstract = name.first == UInt8(ascii: "@")
        if abstract { name[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        // A path needs room for its NUL terminator; an abstract name is length-delimited.
        guard name.count + (abstract ? 0 : 1) <= capacity else {
            throw SystemError("connect", path: socketPath, errno: .nameTooLong)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: name)
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        let length = socklen_t(pathOffset + name.count + (abstract ? 0 : 1))

        // Non-blocking, socket and send both: notifications are advisory. A manager that does
        // not read its socket (busy, stuck, or a stale NOTIFY_SOCKET inherited from elsewhere)
        // fills the receive queue after a few datagrams, and a blocking sendto would then stop
        // the daemon's queue, the stop path included. A datagram that would block is dropped.
        let type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        let socketFD = try SystemError.check("socket", path: socketPath) { socket(AF_UNIX, type, 0) }
        defer { _ = Glibc.close(socketFD) }
        let bytes = Array(state.utf8)
        let sent = retryingOnInterrupt {
            bytes.withUnsafeBytes { payload in
                withUnsafePointer(to: &address) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                        sendto(socketFD, payload.baseAddress, payload.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT),
                               socketAddress, length)
                    }
                }
            }
        }
        if sent == -1 {
            let error = Errno.current
            if error == .wouldBlock { return false }
            throw SystemError("sendto", path: socketPath, errno: error)
        }
        if sent != bytes.count {
            throw SystemError("sendto", path: socketPath, errno: .ioError)
        }
        return true
    }

    /// `READY=1` (with `STATUS=` when given): startup finished.
    @discardableResult
    public func ready(status: String? = nil) throws(SystemError) -> Bool {
        return try notify(status.map { "READY=1\nSTATUS=\($0)" } ?? "READY=1")
    }

    /// `STATUS=…`: a one-line status shown by `systemctl status`.
    @discardableResult
    public func status(_ text: String) throws(SystemError) -> Bool {
        return try notify("STATUS=" + text)
    }

    /// `WATCHDOG=1`: the service is alive.
    @discardableResult
    public func watchdog() throws(SystemError) -> Bool {
        return try notify("WATCHDOG=1")
    }

    /// `STOPPING=1`: shutdown began.
    @discardableResult
    public func stopping() throws(SystemError) -> Bool {
        return try notify("STOPPING=1")
    }

    /// `RELOADING=1`: configuration reload began (send `ready()` when done).
    @discardableResult
    public func reloading() throws(SystemError) -> Bool {
        return try notify("RELOADING=1")
    }

    /// `MAINPID=…`: the main process of the service (default: this process).
    @discardableResult
    public func mainPID(_ pid: Int32 = getpid()) throws(SystemError) -> Bool {
        return try notify("MAINPID=\(pid)")
    }
}
