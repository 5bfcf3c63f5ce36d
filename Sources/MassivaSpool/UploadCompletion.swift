import MassivaSystem

/// When an upload under its final name in one tenant's `incoming/` is complete, and so taken:
/// a pure state machine, one state per file, fed what the intake saw at each look and what
/// inotify said meanwhile; time is only what it is given (the engine's clock).
///
/// An upload is taken when nobody has it open for writing (a read lease granted: `WriteLease`)
/// and nothing has changed it for `quietTime`, measured from the last change *seen*: an inotify
/// event (`noteChange`), a different size or status-change time (ctime) at a look, a writer gone
/// since the last look. Never the modification time, which a client may set in the past (lftp,
/// WinSCP's "preserve timestamp" set the local file's date right after the close), and never
/// while a writer holds the file open, however long it pauses (a stalled mobile link, an `sftp
/// -l` throttled client, a SIGSTOPped one).
///
/// Where leases cannot tell (`Mode.settleTime`: NFS and other network filesystems, where a
/// writer on another machine is invisible to this kernel), `settle_time` applies instead,
/// measured from the last change seen in the same way.
///
/// An upload cut short by a lost connection is closed like a complete one (sftp-server closes
/// the handle when the session ends). How to tell: the file's last bytes. A bulk CSV ends every
/// line with a line end (the template's, Excel's and LibreOffice's "save as CSV" all end the
/// last row with one), while a transfer cut mid-way ends where the last write packet ended,
/// almost always inside a row. The other signal, sftp-server's `forced close` log line
/// (`internal-sftp -l INFO`), was not chosen: the daemon would have to read sshd's log (the
/// journal, not readable by its user, or a syslog socket inside every chroot), match chrooted
/// paths back to spool paths, and it would say nothing for any other server (SFTPGo, an NFS
/// client, a local copy); the last byte is on every spool, and needs nobody's cooperation. Its
/// cost: a complete file whose last row has no line end (typed by hand in an editor that adds
/// none) waits `resumeTime` before it is taken, and its answer says it looked cut short.
///
/// Such an upload (`State.cutShort`) waits `resumeTime` after its last change for the client to
/// resume it (`reput`, WinSCP's resume: appends, the file changes again and is looked at anew)
/// or replace it; then it is taken as it is, flagged so that its answer says so.
public struct UploadCompletion: Sendable {
    /// How the spool tells that nobody writes an upload any more.
    public enum Mode: Equatable, Sendable, CustomStringConvertible {
        /// A read lease granted: nobody has the file open for writing; then `quietTime`.
        case lease
        /// No leases here (`reason`): `settle_time` from the last change seen.
        case settleTime(reason: String)

        public var description: String {
            switch self {
            case .lease: return "lease"
            case .settleTime: return "settle_time"
            }
        }
    }

    /// Whether someone has the file open for writing, as far as a look could tell.
    public enum Writer: Equatable, Sendable {
        case open
        case none
        /// `Mode.settleTime`: nobody knows.
        case unknown
    }

    /// What one look at a regular file saw.
    public struct Observation: Equatable, Sendable {
        public var inode: UInt64
        public var size: Int64
        /// The status-change time (ctime), which every write and attribute change moves.
        public var changeTime: Double
        public var writer: Writer
        /// Whether it ends with a line end (`\n`, `\r`, UTF-16LE's `\n\0`, or DOS's `^Z` after
        /// one: `IncomingLook.endsWithLineEnd`), or is empty (nothing to cut).
        public var endsWithLineEnd: Bool

        public init(inode: UInt64, size: Int64, changeTime: Double, writer: Writer, endsWithLineEnd: Bool) {
            self.inode = inode
            self.size = size
            self.changeTime = changeTime
            self.writer = writer
            self.endsWithLineEnd = endsWithLineEnd
        }
    }

    /// Where one file stands.
    public enum State: Equatable, Sendable {
        /// Someone has it open for writing: never taken meanwhile.
        case writing
        /// Nobody writes it: taken at `until`, unless it changes before.
        case quiet(until: Double)
        /// Closed without a line end at its end: waits until `until` for its client to resume it.
        case cutShort(until: Double)
        /// To be taken now; `cutShort` when after waiting in vain for a resume.
        case complete(cutShort: Bool)

        /// When the file may be ready, for the engine's next wake-up: nil while a writer holds it
        /// (its close is an inotify event, and the rescan covers a lost one) or when ready now.
        public var wakeAt: Double? {
            switch self {
            case .writing, .complete: return nil
            case .quiet(let until), .cutShort(let until): return until
            }
        }

        public var isComplete: Bool {
            if case .complete = self { return true }
            return false
        }
    }

    /// What is known of one file between looks.
    struct Track: Equatable, Sendable {
        var inode: UInt64
        var size: Int64
        var changeTime: Double
        var writer: Writer
        /// When the last change was seen (the engine's clock).
        var lastChange: Double
        var state: State
    }

    /// After the last change seen, how long nobody may touch a closed upload before it is taken:
    /// 300 ms. Long enough for what a client does right after its close, each request one round
    /// trip after the previous one's answer: lftp's setstat of the date and then its chmod,
    /// WinSCP's setstat after its rename, FileZilla's chmod (each restarts the wait, so the time
    /// only has to cover one round trip: 20-150 ms on the mobile links SIs upload from, measured
    /// 1-3 ms between lftp's close and its setstat over loopback in the deployment tests); short
    /// enough for close-to-result p50 ≤ 400 ms and p90 ≤ 600 ms (scripts/bench-daemon: the
    /// quiet time plus 6-8 ms of processing). A `settle_time` below it shortens it (the tests'
    /// `settle_time = 0s` takes a closed file at once).
    public static let defaultQuietTime = 0.3

    public var mode: Mode
    /// How long a closed upload must stay untouched (`Mode.lease`).
    public var quietTime: Double
    /// `settle_time`: the same where leases cannot tell (`Mode.settleTime`), and the cap of
    /// `quietTime`.
    public var settleTime: Double
    /// `resume_time`: how long an upload that looks cut short waits to be resumed.
    public var resumeTime: Double
    private var tracks: [RawFileName: Track] = [:]
    /// Changes inotify reported for files not looked at yet.
    private var pendingChanges: [RawFileName: Double] = [:]

    public init(mode: Mode, settleTime: Double, resumeTime: Double, quietTime: Double = UploadCompletion.defaultQuietTime) {
        self.mode = mode
        self.settleTime = max(0, settleTime)
        self.resumeTime = max(0, resumeTime)
        self.quietTime = max(0, quietTime)
    }

    /// How long a closed file must stay untouched in the current mode.
    public var untouchedTime: Double {
        switch mode {
        case .lease: return min(quietTime, settleTime)
        case .settleTime: return settleTime
        }
    }

    /// How long a file seen with `writer` must stay untouched: `settle_time` when nobody can
    /// tell whether it is written (no leases here, or a file this process may not open).
    func untouchedTime(writer: Writer) -> Double {
        writer == .unknown ? settleTime : untouchedTime
    }

    /// Where `name` stands after the last look; nil when never looked at (or forgotten).
    public func state(of name: RawFileName) -> State? { tracks[name]?.state }

    /// inotify said `name` changed (closed after writing, attributes set, renamed in) at `time`.
    public mutating func noteChange(_ name: RawFileName, at time: Double) {
        if tracks[name] != nil {
            tracks[name]!.lastChange = max(tracks[name]!.lastChange, time)
        } else {
            pendingChanges[name] = max(pendingChanges[name] ?? time, time)
        }
    }

    /// A look at `name` at `now`: its new state.
    @discardableResult
    public mutating func observe(_ name: RawFileName, _ seen: Observation, now: Double) -> State {
        var track: Track
        if let known = tracks[name], known.inode == seen.inode {
            track = known
            if seen.size != known.size || seen.changeTime != known.changeTime {
                track.lastChange = max(track.lastChange, now)  // written, truncated, attributes set
            }
            if known.writer == .open && seen.writer != .open {
                track.lastChange = max(track.lastChange, now)  // its writer closed it
            }
        } else {
            // First seen (or another file under the same name). With leases, its own change time
            // says when it was last touched (a file left by a stopped daemon is not made to wait
            // again); one in the future (a clock set back) counts as now. A network filesystem's
            // change times come from another machine's clock: there, the first look is the change.
            let firstChange = mode == .lease ? min(now, seen.changeTime) : now
            track = Track(inode: seen.inode, size: seen.size, changeTime: seen.changeTime, writer: seen.writer,
                          lastChange: firstChange, state: .writing)
        }
        if let noted = pendingChanges.removeValue(forKey: name) { track.lastChange = max(track.lastChange, min(noted, now)) }
        track.size = seen.size
        track.changeTime = seen.changeTime
        track.writer = seen.writer
        track.state = Self.state(of: track, endsWithLineEnd: seen.endsWithLineEnd, untouched: untouchedTime(writer: seen.writer),
                                 resume: resumeTime, now: now)
        tracks[name] = track
        return track.state
    }

    static func state(of track: Track, endsWithLineEnd: Bool, untouched: Double, resume: Double, now: Double) -> State {
        if track.writer == .open { return .writing }
        let quietEnd = track.lastChange + untouched
        if now < quietEnd { return .quiet(until: quietEnd) }
        if endsWithLineEnd { return .complete(cutShort: false) }
        let resumeEnd = track.lastChange + resume
        return now < resumeEnd ? .cutShort(until: resumeEnd) : .complete(cutShort: true)
    }

    /// Forgets `name` (claimed, or gone).
    public mutating func forget(_ name: RawFileName) {
        tracks[name] = nil
        pendingChanges[name] = nil
    }

    /// Forgets every file but those in `present` (what a look at the folder found): memory stays
    /// bounded by what the folder holds.
    public mutating func keepOnly(_ present: Set<RawFileName>) {
        tracks = tracks.filter { present.contains($0.key) }
        pendingChanges = pendingChanges.filter { present.contains($0.key) }
    }

    /// How many files are tracked (the tests' check that memory follows the folder).
    public var trackedCount: Int { tracks.count + pendingChanges.count }
}
