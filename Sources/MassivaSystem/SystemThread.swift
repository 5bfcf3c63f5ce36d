#if canImport(Glibc)
import Glibc
#endif

/// A detached POSIX thread of its own, for work that blocks (waiting for a child process):
/// Dispatch's pool grows only slowly past the number of CPUs for blocked work, and a probe
/// round needs `probe_concurrency` threads blocked at once.
public enum SystemThread {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Starts `body` on a new detached thread (256 KiB of stack).
    public static func detach(_ body: @escaping @Sendable () -> Void) throws(SystemError) {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        pthread_attr_setstacksize(&attributes, 256 * 1024)
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, &attributes, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, context)
        if result != 0 {
            Unmanaged<Box>.fromOpaque(context).release()
            throw SystemError("pthread_create", errno: Errno(result))
        }
    }
}
