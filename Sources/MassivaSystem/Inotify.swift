#if canImport(Glibc)
import Glibc
#endif

/// Event bits of inotify watches and events (`IN_*`).
public struct InotifyMask: OptionSet, Hashable, Sendable, CustomStringConvertible {
    /// The raw `IN_*` bits.
    public let rawValue: UInt32
    /// Wraps raw `IN_*` bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `IN_ACCESS`: file read.
    public static let access = InotifyMask(rawValue: 0x0000_0001)
    /// `IN_MODIFY`: file written.
    public static let modify = InotifyMask(rawValue: 0x0000_0002)
    /// `IN_ATTRIB`: metadata changed.
    public static let attributes = InotifyMask(rawValue: 0x0000_0004)
    /// `IN_CLOSE_WRITE`: a file opened for writing was closed.
    public static let closeWrite = InotifyMask(rawValue: 0x0000_0008)
    /// `IN_CLOSE_NOWRITE`: a file not opened for writing was closed.
    public static let closeNoWrite = InotifyMask(rawValue: 0x0000_0010)
    /// `IN_OPEN`: file opened.
    public static let open = InotifyMask(rawValue: 0x0000_0020)
    /// `IN_MOVED_FROM`: an entry was renamed out of the watched directory.
    public static let movedFrom = InotifyMask(rawValue: 0x0000_0040)
    /// `IN_MOVED_TO`: an entry was renamed into the watched directory.
    public static let movedTo = InotifyMask(rawValue: 0x0000_0080)
    /// `IN_CREATE`: an entry was created in the watched directory.
    public static let create = InotifyMask(rawValue: 0x0000_0100)
    /// `IN_DELETE`: an entry was deleted from the watched directory.
    public static let delete = InotifyMask(rawValue: 0x0000_0200)
    /// `IN_DELETE_SELF`: the watched file or directory itself was deleted.
    public static let deleteSelf = InotifyMask(rawValue: 0x0000_0400)
    /// `IN_MOVE_SELF`: the watched file or directory itself was moved.
    public static let moveSelf = InotifyMask(rawValue: 0x0000_0800)

    /// `IN_UNMOUNT` (event only): the filesystem was unmounted.
    public static let unmount = InotifyMask(rawValue: 0x0000_2000)
    /// `IN_Q_OVERFLOW` (event only, watch -1): events were lost; rescan everything.
    public static let overflow = InotifyMask(rawValue: 0x0000_4000)
    /// `IN_IGNORED` (event only): the watch was removed (explicitly or because its target went).
    public static let ignored = InotifyMask(rawValue: 0x0000_8000)

    /// `IN_ONLYDIR` (watch option): only watch `path` if it is a directory.
    public static let onlyDirectory = InotifyMask(rawValue: 0x0100_0000)
    /// `IN_DONT_FOLLOW` (watch option): do not follow a symlink at `path`.
    public static let dontFollow = InotifyMask(rawValue: 0x0200_0000)
    /// `IN_EXCL_UNLINK` (watch option): no events for children after they are unlinked.
    public static let excludeUnlinked = InotifyMask(rawValue: 0x0400_0000)
    /// `IN_MASK_CREATE` (watch option): fail with `EEXIST` if `path` is already watched.
    public static let maskCreate = InotifyMask(rawValue: 0x1000_0000)
    /// `IN_MASK_ADD` (watch option): add to an existing watch's mask instead of replacing.
    public static let maskAdd = InotifyMask(rawValue: 0x2000_0000)
    /// `IN_ISDIR` (event only): the subject of the event is a directory.
    public static let isDirectory = InotifyMask(rawValue: 0x4000_0000)
    /// `IN_ONESHOT` (watch option): remove the watch after one event.
    public static let oneShot = InotifyMask(rawValue: 0x8000_0000)

    /// `IN_MOVE`: `movedFrom` and `movedTo`.
    public static let move: InotifyMask = [.movedFrom, .movedTo]
    /// `IN_CLOSE`: `closeWrite` and `closeNoWrite`.
    public static let close: InotifyMask = [.closeWrite, .closeNoWrite]

    private static let names: [(InotifyMask, String)] = [
        (.access, "access"), (.modify, "modify"), (.attributes, "attributes"),
        (.closeWrite, "closeWrite"), (.closeNoWrite, "closeNoWrite"), (.open, "open"),
        (.movedFrom, "movedFrom"), (.movedTo, "movedTo"), (.create, "create"), (.delete, "delete"),
        (.deleteSelf, "deleteSelf"), (.moveSelf, "moveSelf"), (.unmount, "unmount"),
        (.overflow, "overflow"), (.ignored, "ignored"), (.onlyDirectory, "onlyDirectory"),
        (.dontFollow, "dontFollow"), (.excludeUnlinked, "excludeUnlinked"),
        (.maskCreate, "maskCreate"), (.maskAdd, "maskAdd"), (.isDirectory, "isDirectory"),
        (.oneShot, "oneShot"),
    ]

    /// The set bits by name, e.g. `[create, isDirectory]`.
    public var description: String {
        var parts = InotifyMask.names.filter { contains($0.0) }.map(\.1)
        let known = InotifyMask.names.reduce(into: InotifyMask()) { $0.formUnion($1.0) }
        let rest = subtracting(known).rawValue
        if rest != 0 { parts.append("0x" + String(rest, radix: 16)) }
        return "[" + parts.joined(separator: ", ") + "]"
    }
}

/// An inotify watch, as returned by `Inotify.addWatch` and carried by events.
public struct WatchDescriptor: RawRepresentable, Hashable, Sendable {
    /// The raw watch descriptor (-1 for `overflow` events).
    public let rawValue: Int32
    /// Wraps a raw watch descriptor.
    public init(rawValue: Int32) { self.rawValue = rawValue }
}

/// One inotify event record.
public struct InotifyEvent: Equatable, Hashable, Sendable {
    /// The watch the event belongs to (-1 for `overflow`).
    public var watch: WatchDescriptor
    /// What happened.
    public var mask: InotifyMask
    /// Pairs a `movedFrom` with its `movedTo`; 0 otherwise.
    public var cookie: UInt32
    /// The entry name inside the watched directory, or nil for events on the watch itself.
    public var name: String?

    /// Builds an event from its parts.
    public init(watch: WatchDescriptor, mask: InotifyMask, cookie: UInt32, name: String?) {
        self.watch = watch
        self.mask = mask
        self.cookie = cookie
        self.name = name
    }

    /// Parses the packed variable-length records of an inotify `read` (each: `int wd`,
    /// `uint32 mask`, `uint32 cookie`, `uint32 len`, then `len` bytes of NUL-padded name).
    /// A trailing incomplete record is ignored.
    public static func parse(_ buffer: UnsafeRawBufferPointer) -> [InotifyEvent] {
        var events: [InotifyEvent] = []
        let header = 16
        var offset = 0
        while offset + header <= buffer.count {
            let wd = buffer.loadUnaligned(fromByteOffset: offset, as: Int32.self)
            let mask = buffer.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
            let cookie = buffer.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
            let length = Int(buffer.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
            guard offset + header + length <= buffer.count else { break }
            var name: String?
            if length > 0 {
                let bytes = buffer[(offset + header)..<(offset + header + length)]
                let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
                let text = String(decoding: buffer[bytes.startIndex..<end], as: UTF8.self)
                name = text.isEmpty ? nil : text
            }
            events.append(InotifyEvent(watch: WatchDescriptor(rawValue: wd),
                                       mask: InotifyMask(rawValue: mask), cookie: cookie, name: name))
            offset += header + length
        }
        return events
    }
}

/// An inotify instance (`inotify_init1(IN_NONBLOCK | IN_CLOEXEC)`).
///
/// Watch directories with `addWatch`; when `fileDescriptor` is readable (e.g. a
/// `DispatchSource.makeReadSource(fileDescriptor: inotify.fileDescriptor.rawValue, …)`),
/// call `readEvents()`. Close it once with `close()`, after cancelling any source.
public struct Inotify: Hashable, Sendable {
    /// The inotify descriptor (non-blocking, close-on-exec).
    public let fileDescriptor: FileDescriptor

    /// Creates an inotify instance.
    public init() throws(SystemError) {
        let flags = Int32(IN_NONBLOCK) | Int32(IN_CLOEXEC)
        fileDescriptor = FileDescriptor(rawValue: try SystemError.check("inotify_init1") {
            inotify_init1(flags)
        })
    }

    /// `inotify_add_watch(fd, path, mask)`. Watching a path already watched returns the
    /// same descriptor (and replaces its mask unless `.maskAdd`).
    public func addWatch(_ path: String, mask: InotifyMask) throws(SystemError) -> WatchDescriptor {
        WatchDescriptor(rawValue: try SystemError.check("inotify_add_watch", path: path) {
            inotify_add_watch(fileDescriptor.rawValue, path, mask.rawValue)
        })
    }

    /// `inotify_rm_watch(fd, wd)`. An `ignored` event for the watch follows.
    public func removeWatch(_ watch: WatchDescriptor) throws(SystemError) {
        try SystemError.check("inotify_rm_watch") {
            inotify_rm_watch(fileDescriptor.rawValue, watch.rawValue)
        }
    }

    /// Reads and parses all events queued now; empty if none (never blocks).
    /// Includes `overflow` events (watch -1) when the kernel queue overflowed.
    public func readEvents() throws(SystemError) -> [InotifyEvent] {
        var events: [InotifyEvent] = []
        // Large enough for many records and for at least one with a NAME_MAX name.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024,
                                                            alignment: MemoryLayout<Int32>.alignment)
        defer { buffer.deallocate() }
        while true {
            let count = Glibc.read(fileDescriptor.rawValue, buffer.baseAddress, buffer.count)
            if count < 0 {
                let error = Errno.current
                if error == .interrupted { continue }
                if error == .wouldBlock { return events }
                throw SystemError("read(inotify)", errno: error)
            }
            if count == 0 { return events }
            events += InotifyEvent.parse(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }

    /// Closes the inotify descriptor (all watches go with it).
    public func close() throws(SystemError) {
        try fileDescriptor.close()
    }
}
