import MassivaSystem

/// One look at a regular file of `incoming/` for `UploadCompletion`: opened read-only (never
/// followed, never blocking), its status, whether someone writes it (`WriteLease`), its last
/// byte. The lease, when granted, is held until `close()`: the intake claims the file meanwhile,
/// so no writer can open it between the look and the rename.
struct IncomingLook {
    /// Nil when the file could not be opened (its mode refuses this process): then nobody knows
    /// whether it is written, and `settle_time` applies to it.
    let descriptor: FileDescriptor?
    let lease: WriteLease?
    let observation: UploadCompletion.Observation
    /// Why leases cannot tell, when asking for one failed otherwise than with a writer.
    let leaseUnavailable: SystemError?

    /// Looks at `entry` of `directory`, which `linkStatus` (its `lstat`) says is a regular file;
    /// nil when it is gone or no longer a regular file (the next look sees what it became).
    /// `askLease`: the spool's mode is `.lease`. `checkEnding`: whether its last byte matters
    /// (not for a `.cancel` file, which is empty).
    static func look(_ entry: RawFileName, in directory: String, linkStatus: FileStatus, askLease: Bool,
                     checkEnding: Bool) -> IncomingLook? {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(entry, in: directory, .readOnly, options: [.noFollow, .nonBlocking, .closeOnExec])
        } catch {
            if error.errno == .noSuchFileOrDirectory { return nil }
            // Unreadable to this process: taken by the settle time from the changes seen, and
            // then refused with its reason (`ClaimedUpload`), never left unanswered.
            return IncomingLook(descriptor: nil, lease: nil,
                                observation: .init(inode: linkStatus.inode, size: linkStatus.size, changeTime: linkStatus.changeTime,
                                                   writer: .unknown, endsWithLineEnd: true),
                                leaseUnavailable: nil)
        }
        guard let status = try? fd.status(), status.kind == .regular else {
            try? fd.close()
            return nil
        }
        var writer = UploadCompletion.Writer.unknown
        var lease: WriteLease?
        var unavailable: SystemError?
        if askLease {
            switch WriteLease.ask(on: fd) {
            case .noWriter(let granted):
                writer = .none
                lease = granted
            case .writerOpen:
                writer = .open
            case .unavailable(let error):
                unavailable = error
            }
        }
        var endsWithLineEnd = true
        if checkEnding && writer != .open && status.size > 0 {
            let tail = (try? fd.read(at: max(0, status.size - 2), count: 2)) ?? []
            endsWithLineEnd = Self.endsWithLineEnd(tail)
        }
        return IncomingLook(descriptor: fd, lease: lease,
                            observation: .init(inode: status.inode, size: status.size, changeTime: status.changeTime,
                                               writer: writer, endsWithLineEnd: endsWithLineEnd),
                            leaseUnavailable: unavailable)
    }

    /// Whether the last two bytes of a file (or its only one) end a line: `\n` or `\r` (UTF-8,
    /// Windows-1252 and UTF-16BE all end so), `\n\0` or `\r\0` (UTF-16LE, which Windows'
    /// Notepad writes as "Unicode"), or DOS's end-of-file mark `^Z` that old Windows tools append.
    static func endsWithLineEnd(_ tail: [UInt8]) -> Bool {
        guard let last = tail.last else { return true }
        if last == 0x0A || last == 0x0D || last == 0x1A { return true }
        return tail.count == 2 && last == 0x00 && (tail[0] == 0x0A || tail[0] == 0x0D)
    }

    /// Releases the lease and closes the file.
    func close() {
        lease?.release()
        try? descriptor?.close()
    }
}
