import Testing
import MassivaSpool
import MassivaSystem
import MassivaTestSupport

/// The state machine that decides when an upload is complete, driven directly: observations
/// as the intake would make them, time from a fake clock.
@Suite struct UploadCompletionTests {
    let name = RawFileName("upload.csv")

    func seen(size: Int64, ctime: Double, writer: UploadCompletion.Writer, lineEnd: Bool = true,
              inode: UInt64 = 7) -> UploadCompletion.Observation {
        .init(inode: inode, size: size, changeTime: ctime, writer: writer, endsWithLineEnd: lineEnd)
    }

    func machine(_ mode: UploadCompletion.Mode = .lease, settle: Double = 2, resume: Double = 900) -> UploadCompletion {
        UploadCompletion(mode: mode, settleTime: settle, resumeTime: resume)
    }

    @Test func aWriterThatPausesWithTheFileOpenIsNeverTaken() {
        let clock = FakeClock(1_000_000)
        var m = machine()
        #expect(m.observe(name, seen(size: 100, ctime: clock.now, writer: .open), now: clock.now) == .writing)
        // An hour of silence, the file still open: still writing, and no wake-up asked for.
        for _ in 0..<60 {
            clock.advance(by: 60)
            let state = m.observe(name, seen(size: 100, ctime: clock.now - 3600, writer: .open), now: clock.now)
            #expect(state == .writing)
            #expect(state.wakeAt == nil)
        }
    }

    @Test func aClosedFileIsTakenAfterTheQuietTimeFromItsClose() {
        let clock = FakeClock(1_000_000)
        var m = machine()
        m.observe(name, seen(size: 100, ctime: clock.now, writer: .open), now: clock.now)
        clock.advance(by: 30)  // the writer paused, then closed
        let closedAt = clock.now
        #expect(m.observe(name, seen(size: 100, ctime: closedAt - 30, writer: .none), now: closedAt)
                == .quiet(until: closedAt + UploadCompletion.defaultQuietTime))
        clock.advance(by: UploadCompletion.defaultQuietTime / 2)
        #expect(!(m.observe(name, seen(size: 100, ctime: closedAt - 30, writer: .none), now: clock.now).isComplete))
        clock.set(closedAt + UploadCompletion.defaultQuietTime)
        #expect(m.observe(name, seen(size: 100, ctime: closedAt - 30, writer: .none), now: clock.now) == .complete(cutShort: false))
    }

    @Test func aPreservedOldModificationTimeCountsForNothing() {
        // The client closes, then sets the date of the local file (a year ago): the ctime moves
        // (the kernel's, never the client's), and inotify reports the attribute change.
        let clock = FakeClock(1_000_000)
        let written = clock.now
        var m = machine()
        m.observe(name, seen(size: 100, ctime: written, writer: .open), now: clock.now)
        clock.advance(by: 0.01)
        let closedAt = clock.now
        #expect(m.observe(name, seen(size: 100, ctime: written, writer: .none), now: closedAt)
                == .quiet(until: closedAt + UploadCompletion.defaultQuietTime))
        clock.advance(by: 0.2)
        let setstatAt = clock.now
        m.noteChange(name, at: setstatAt)  // IN_ATTRIB: setstat of the old date
        clock.set(closedAt + UploadCompletion.defaultQuietTime)  // the close's quiet time is over
        #expect(m.observe(name, seen(size: 100, ctime: setstatAt, writer: .none), now: clock.now)
                == .quiet(until: clock.now + UploadCompletion.defaultQuietTime))
        clock.advance(by: UploadCompletion.defaultQuietTime)
        #expect(m.observe(name, seen(size: 100, ctime: setstatAt, writer: .none), now: clock.now).isComplete)
    }

    @Test func aChangeSeenOnlyAsADifferentCtimeOrSizeRestartsTheQuietTime() {
        let clock = FakeClock(1_000_000)
        let (first, chmod) = (clock.now, clock.now + 0.2)
        var m = machine()
        m.observe(name, seen(size: 100, ctime: first, writer: .none), now: clock.now)
        clock.advance(by: 0.25)
        // A chmod whose event is still unread: only the ctime says it.
        #expect(m.observe(name, seen(size: 100, ctime: chmod, writer: .none), now: clock.now)
                == .quiet(until: clock.now + UploadCompletion.defaultQuietTime))
        clock.advance(by: 0.25)
        // A truncate by path that kept the ctime (it never does; the size is enough).
        #expect(!m.observe(name, seen(size: 50, ctime: chmod, writer: .none), now: clock.now).isComplete)
        clock.advance(by: UploadCompletion.defaultQuietTime)
        #expect(m.observe(name, seen(size: 50, ctime: chmod, writer: .none), now: clock.now).isComplete)
    }

    @Test func aFileFoundClosedLongAgoIsTakenAtOnceWithLeasesButWaitsTheSettleTimeWithout() {
        let clock = FakeClock(1_000_000)
        let hourAgo = clock.now - 3600
        var withLeases = machine()
        #expect(withLeases.observe(name, seen(size: 10, ctime: hourAgo, writer: .none), now: clock.now).isComplete)
        // On a network filesystem the ctime is another machine's clock: the first look is the change.
        var without = machine(.settleTime(reason: "EINVAL"), settle: 2)
        let firstLook = clock.now
        #expect(without.observe(name, seen(size: 10, ctime: hourAgo, writer: .unknown), now: clock.now)
                == .quiet(until: firstLook + 2))
        clock.advance(by: 1.5)
        #expect(!without.observe(name, seen(size: 10, ctime: hourAgo, writer: .unknown), now: clock.now).isComplete)
        clock.set(firstLook + 2)
        #expect(without.observe(name, seen(size: 10, ctime: hourAgo, writer: .unknown), now: clock.now).isComplete)
    }

    @Test func aCtimeInTheFutureCountsAsNow() {
        let clock = FakeClock(1_000_000)
        let tomorrow = clock.now + 86_400
        let firstLook = clock.now
        var m = machine()
        #expect(m.observe(name, seen(size: 10, ctime: tomorrow, writer: .none), now: clock.now)
                == .quiet(until: firstLook + UploadCompletion.defaultQuietTime))
        clock.set(firstLook + UploadCompletion.defaultQuietTime)
        #expect(m.observe(name, seen(size: 10, ctime: tomorrow, writer: .none), now: clock.now).isComplete)
    }

    @Test func theSettleTimeCapsTheQuietTimeAndAppliesWhenTheWriterIsUnknown() {
        let clock = FakeClock(1_000_000)
        var zero = machine(settle: 0)
        #expect(zero.observe(name, seen(size: 10, ctime: clock.now, writer: .none), now: clock.now).isComplete)
        #expect(zero.observe(RawFileName("other.csv"), seen(size: 10, ctime: clock.now, writer: .open), now: clock.now) == .writing)
        // A file this process could not open: nobody knows about its writer.
        var m = machine(settle: 5)
        #expect(m.observe(name, seen(size: 10, ctime: clock.now, writer: .unknown), now: clock.now) == .quiet(until: clock.now + 5))
    }

    @Test func anUploadCutShortWaitsForAResumeThenIsTakenFlagged() {
        let clock = FakeClock(1_000_000)
        var m = machine(resume: 900)
        m.observe(name, seen(size: 32768, ctime: clock.now, writer: .open), now: clock.now)
        clock.advance(by: 1)
        let closedAt = clock.now  // the connection was lost: sftp-server closed the file
        m.observe(name, seen(size: 32768, ctime: closedAt - 1, writer: .none, lineEnd: false), now: closedAt)
        clock.advance(by: UploadCompletion.defaultQuietTime)
        let state = m.observe(name, seen(size: 32768, ctime: closedAt - 1, writer: .none, lineEnd: false), now: clock.now)
        #expect(state == .cutShort(until: closedAt + 900))
        #expect(state.wakeAt == closedAt + 900)
        clock.set(closedAt + 899)
        #expect(!m.observe(name, seen(size: 32768, ctime: closedAt - 1, writer: .none, lineEnd: false), now: clock.now).isComplete)
        clock.set(closedAt + 900)
        #expect(m.observe(name, seen(size: 32768, ctime: closedAt - 1, writer: .none, lineEnd: false), now: clock.now)
                == .complete(cutShort: true))
    }

    @Test func aResumedUploadBecomesWholeAndUnflagged() {
        let clock = FakeClock(1_000_000)
        var m = machine(resume: 900)
        let cut = clock.now
        m.observe(name, seen(size: 32768, ctime: cut, writer: .none, lineEnd: false), now: clock.now)
        clock.advance(by: 60)
        #expect(m.observe(name, seen(size: 32768, ctime: cut, writer: .none, lineEnd: false), now: clock.now)
                == .cutShort(until: cut + 900))
        clock.advance(by: 60)
        // reput: the client appends (open for writing), then closes with the file whole.
        #expect(m.observe(name, seen(size: 40000, ctime: clock.now, writer: .open, lineEnd: false), now: clock.now) == .writing)
        clock.advance(by: 5)
        let closedAt = clock.now
        let lastWrite = closedAt - 0.5
        #expect(m.observe(name, seen(size: 65536, ctime: lastWrite, writer: .none), now: closedAt)
                == .quiet(until: closedAt + UploadCompletion.defaultQuietTime))
        clock.advance(by: UploadCompletion.defaultQuietTime)
        #expect(m.observe(name, seen(size: 65536, ctime: lastWrite, writer: .none), now: clock.now) == .complete(cutShort: false))
    }

    @Test func aCutUploadReplacedByAnotherFileStartsAgain() {
        let clock = FakeClock(1_000_000)
        var m = machine(resume: 900)
        let cut = clock.now - 10
        m.observe(name, seen(size: 100, ctime: cut, writer: .none, lineEnd: false), now: clock.now)
        #expect(m.state(of: name) == .cutShort(until: cut + 900))
        clock.advance(by: 1)
        // Renamed over it by the client: another inode, its own ctime (just now).
        #expect(m.observe(name, seen(size: 200, ctime: clock.now, writer: .none, inode: 8), now: clock.now)
                == .quiet(until: clock.now + UploadCompletion.defaultQuietTime))
    }

    @Test func changesNotedBeforeTheFirstLookCount() {
        let clock = FakeClock(1_000_000)
        var m = machine()
        let closedAt = clock.now
        m.noteChange(name, at: closedAt)  // IN_CLOSE_WRITE read before any look
        clock.advance(by: 0.1)
        #expect(m.observe(name, seen(size: 10, ctime: closedAt - 100, writer: .none), now: clock.now)
                == .quiet(until: closedAt + UploadCompletion.defaultQuietTime))
    }

    @Test func memoryFollowsWhatTheFolderHolds() {
        let clock = FakeClock(1_000_000)
        var m = machine()
        for i in 0..<100 {
            m.observe(RawFileName("f\(i).csv"), seen(size: 1, ctime: clock.now, writer: .open, inode: UInt64(i)), now: clock.now)
            m.noteChange(RawFileName("gone\(i).csv"), at: clock.now)
        }
        #expect(m.trackedCount == 200)
        m.keepOnly([RawFileName("f1.csv"), RawFileName("f2.csv")])
        #expect(m.trackedCount == 2)
        m.forget(RawFileName("f1.csv"))
        #expect(m.trackedCount == 1 && m.state(of: RawFileName("f2.csv")) == .writing)
    }
}
