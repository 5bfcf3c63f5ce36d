#if canImport(Glibc)
import Glibc
#endif

/// `posix_spawn`'s attributes for a program massiva starts: an empty signal mask (the daemon
/// blocks its signals in every thread, and a child inherits the mask: a probe would never see
/// its SIGTERM) and the signals massiva handles or ignores back at their default actions;
/// optionally a process group of its own, so a deadline's kill reaches what it started too.
public final class SpawnAttributes {
    /// For `posix_spawn`'s `attrp`; valid while this object lives.
    public let pointer: UnsafeMutablePointer<posix_spawnattr_t>

    public init(defaultSignals: [Int32], ownProcessGroup: Bool = false) {
        pointer = .allocate(capacity: 1)
        posix_spawnattr_init(pointer)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(pointer, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in defaultSignals { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(pointer, &defaults)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if ownProcessGroup {
            posix_spawnattr_setpgroup(pointer, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(pointer, Int16(flags))
    }

    deinit {
        posix_spawnattr_destroy(pointer)
        pointer.deallocate()
    }
}
