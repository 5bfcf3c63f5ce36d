import Dispatch
import Glibc
import MassivaSystem
import MassivaTestSupport
import Testing

@Suite("Inotify")
struct InotifyTests {
    /// Reads events until `done` says enough has arrived (or the wait's generous deadline passes).
    func collect(_ inotify: Inotify, until done: ([InotifyEvent]) -> Bool) async throws -> [InotifyEvent] {
        var events: [InotifyEvent] = []
        _ = try await eventually {
            events += try inotify.readEvents()
            return done(events)
        }
        return events
    }

    @Test func seesACreatedAndClosedFileAndARenameIntoTheDirectory() async throws {
        try await withTemporaryDirectory { directory in
            let incoming = directory + "/incoming", elsewhere = directory + "/elsewhere"
            try FileSystem.makeDirectory(incoming)
            try FileSystem.makeDirectory(elsewhere)
            let inotify = try Inotify()
            defer { try? inotify.close() }
            #expect(try inotify.readEvents().isEmpty)  // non-blocking: nothing yet
            let watch = try inotify.addWatch(incoming, mask: [.closeWrite, .movedTo, .create, .onlyDirectory])

            try writeFile(incoming + "/upload.csv", "a;b\n")
            try writeFile(elsewhere + "/staged.csv", "c;d\n")
            try FileSystem.rename(from: elsewhere + "/staged.csv", to: incoming + "/moved.csv")

            let events = try await collect(inotify) { events in
                events.contains { $0.name == "moved.csv" && $0.mask.contains(.movedTo) }
            }
            #expect(events.allSatisfy { $0.watch == watch })
            #expect(events.contains { $0.name == "upload.csv" && $0.mask.contains(.create) })
            #expect(events.contains { $0.name == "upload.csv" && $0.mask.contains(.closeWrite) })
            let moved = try #require(events.first { $0.name == "moved.csv" })
            #expect(moved.mask.contains(.movedTo))
            #expect(moved.cookie != 0)
            #expect(!events.contains { $0.name == "staged.csv" })
        }
    }

    @Test func removingAWatchYieldsIgnoredAndOnlyDirectoryRefusesFiles() async throws {
        try await withTemporaryDirectory { directory in
            let inotify = try Inotify()
            defer { try? inotify.close() }
            try writeFile(directory + "/file", "")
            let error = #expect(throws: SystemError.self) {
                _ = try inotify.addWatch(directory + "/file", mask: [.create, .onlyDirectory])
            }
            #expect(error?.errno == .notDirectory)

            let watch = try inotify.addWatch(directory, mask: [.create])
            try inotify.removeWatch(watch)
            let events = try await collect(inotify) { $0.contains { $0.mask.contains(.ignored) } }
            let ignored = try #require(events.first { $0.mask.contains(.ignored) })
            #expect(ignored.watch == watch)
            #expect(ignored.name == nil)
        }
    }

    @Test func drivesADispatchReadSource() async throws {
        try await withTemporaryDirectory { directory in
            let inotify = try Inotify()
            _ = try inotify.addWatch(directory, mask: [.closeWrite])
            let queue = DispatchQueue(label: "inotify-test")
            let received = LockedBox<[String]>([])
            let source = DispatchSource.makeReadSource(fileDescriptor: inotify.fileDescriptor.rawValue,
                                                       queue: queue)
            source.setEventHandler {
                let names = ((try? inotify.readEvents()) ?? []).compactMap(\.name)
                received.update { $0 += names }
            }
            source.setCancelHandler { try? inotify.close() }
            source.resume()
            defer { source.cancel() }

            try writeFile(directory + "/a.csv", "x")
            #expect(await eventually { received.value.contains("a.csv") })
        }
    }

    @Test func parsesPackedRecordsIncludingOverflow() {
        var bytes: [UInt8] = []
        func append(wd: Int32, mask: UInt32, cookie: UInt32, name: String?) {
            var nameBytes: [UInt8] = name.map { Array($0.utf8) + [0] } ?? []
            while nameBytes.count % 16 != 0 { nameBytes.append(0) }
            withUnsafeBytes(of: wd.littleEndian) { bytes += $0 }
            withUnsafeBytes(of: mask.littleEndian) { bytes += $0 }
            withUnsafeBytes(of: cookie.littleEndian) { bytes += $0 }
            withUnsafeBytes(of: UInt32(nameBytes.count).littleEndian) { bytes += $0 }
            bytes += nameBytes
        }
        append(wd: 1, mask: InotifyMask.closeWrite.rawValue, cookie: 0, name: "a-rather-long-file-name.csv")
        append(wd: -1, mask: InotifyMask.overflow.rawValue, cookie: 0, name: nil)
        append(wd: 2, mask: InotifyMask([.movedTo, .isDirectory]).rawValue, cookie: 77, name: "d")
        bytes += [1, 2, 3]  // a torn trailing record is ignored

        let events = bytes.withUnsafeBytes { InotifyEvent.parse($0) }
        #expect(events == [
            InotifyEvent(watch: WatchDescriptor(rawValue: 1), mask: .closeWrite, cookie: 0,
                         name: "a-rather-long-file-name.csv"),
            InotifyEvent(watch: WatchDescriptor(rawValue: -1), mask: .overflow, cookie: 0, name: nil),
            InotifyEvent(watch: WatchDescriptor(rawValue: 2), mask: [.movedTo, .isDirectory], cookie: 77,
                         name: "d"),
        ])
        #expect(InotifyMask([.create, .isDirectory]).description == "[create, isDirectory]")
    }

    @Test func masksMatchTheKernelHeaders() {
        #expect(InotifyMask.closeWrite.rawValue == UInt32(IN_CLOSE_WRITE))
        #expect(InotifyMask.movedTo.rawValue == UInt32(IN_MOVED_TO))
        #expect(InotifyMask.create.rawValue == UInt32(IN_CREATE))
        #expect(InotifyMask.delete.rawValue == UInt32(IN_DELETE))
        #expect(InotifyMask.deleteSelf.rawValue == UInt32(IN_DELETE_SELF))
        #expect(InotifyMask.moveSelf.rawValue == UInt32(IN_MOVE_SELF))
        #expect(InotifyMask.overflow.rawValue == UInt32(IN_Q_OVERFLOW))
        #expect(InotifyMask.ignored.rawValue == UInt32(IN_IGNORED))
        #expect(InotifyMask.onlyDirectory.rawValue == UInt32(IN_ONLYDIR))
        #expect(InotifyMask.isDirectory.rawValue == UInt32(IN_ISDIR))
        #expect(InotifyMask.excludeUnlinked.rawValue == UInt32(IN_EXCL_UNLINK))
    }
}

/// A value shared between a dispatch handler and the test, behind a mutex.
final class LockedBox<Value: Sendable>: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var stored: Value

    init(_ value: Value) {
        stored = value
        pthread_mutex_init(&mutex, nil)
    }

    deinit { pthread_mutex_destroy(&mutex) }

    var value: Value {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return stored
    }

    func update(_ body: (inout Value) -> Void) {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        body(&stored)
    }
}
