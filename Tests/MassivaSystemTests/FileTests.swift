import Glibc
@testable import MassivaSystem
import MassivaTestSupport
import MassivaSystem
import Testing

@Suite("Errno and SystemError")
struct ErrnoTests {
    @Test func describesOperationPathAndStrerror() {
        let error = SystemError("open", path: "/x/y", errno: .noSuchFileOrDirectory)
        #expect(error.description == "open(\"/x/y\"): No such file or directory")
        let rename = SystemError("rename", path: "/a", otherPath: "/b", errno: .fileExists)
        #expect(rename.description == "rename(\"/a\", \"/b\"): File exists")
        #expect(SystemError("fsync", errno: .badFileDescriptor).description == "fsync: Bad file descriptor")
        #expect(Errno(ENOENT) == .noSuchFileOrDirectory)
    }

    @Test func openOfMissingFileThrowsWithPath() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/missing"
            let error = #expect(throws: SystemError.self) {
                _ = try FileDescriptor.open(path, .readOnly)
            }
            #expect(error?.errno == .noSuchFileOrDirectory)
            #expect(error?.operation == "open")
            #expect(error?.path == path)
        }
    }
}

@Suite("FileStatus")
struct FileStatusTests {
    @Test func kindsOfRegularDirectorySymlinkAndFifo() throws {
        try withTemporaryDirectory { directory in
            let file = directory + "/file", sub = directory + "/dir"
            let link = directory + "/link", fifo = directory + "/fifo"
            try writeFile(file, "hello")
            try FileSystem.makeDirectory(sub)
            #expect(symlink(file, link) == 0)
            #expect(mkfifo(fifo, 0o600) == 0)

            let regular = try FileStatus.ofLink(file)
            #expect(regular.kind == .regular)
            #expect(regular.size == 5)
            #expect(regular.userID == UInt32(getuid()))
            // The modification time, fraction included, as set (not read against the system's clock).
            try FileSystem.setModificationTime(file, to: 1_795_921_925.25)
            #expect(try FileStatus.ofLink(file).modificationTime == 1_795_921_925.25)
            #expect(regular.inode != 0)
            #expect(try FileStatus.ofLink(sub).kind == .directory)
            #expect(try FileStatus.ofLink(link).kind == .symlink)   // lstat does not follow
            #expect(try FileStatus.of(link).kind == .regular)       // stat does
            #expect(try FileStatus.of(link).inode == regular.inode)
            #expect(try FileStatus.ofLink(fifo).kind == .fifo)
            #expect(try FileStatus.ofLink("/dev/null").kind == .characterDevice)
        }
    }

    @Test func fstatMatchesLstat() throws {
        try withTemporaryDirectory { directory in
            let file = directory + "/file"
            try writeFile(file, "abc")
            let viaPath = try FileStatus.ofLink(file)
            let fd = try FileDescriptor.open(file, .readOnly)
            let viaDescriptor = try fd.closeAfter { try $0.status() }
            #expect(viaPath == viaDescriptor)
            #expect(viaDescriptor.permissions == viaDescriptor.mode & 0o777)
        }
    }
}

@Suite("FileDescriptor")
struct FileDescriptorTests {
    @Test func readsWithASizeLimit() throws {
        try withTemporaryDirectory { directory in
            let file = directory + "/ten"
            try writeFile(file, "0123456789")
            func read(_ limit: Int) throws -> (String, Bool) {
                let fd = try FileDescriptor.open(file, .readOnly)
                let result = try fd.closeAfter { try $0.read(upTo: limit) }
                return (String(decoding: result.bytes, as: UTF8.self), result.truncated)
            }
            #expect(try read(100) == ("0123456789", false))
            #expect(try read(10) == ("0123456789", false))
            #expect(try read(9) == ("012345678", true))
            #expect(try read(0) == ("", true))
            #expect(try read(Int.max) == ("0123456789", false))
        }
    }

    @Test func readsALargeFileWhole() throws {
        try withTemporaryDirectory { directory in
            let file = directory + "/big"
            let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let fd = try FileDescriptor.open(file, .writeOnly, options: [.create, .exclusiveCreate])
            try fd.closeAfter { try $0.writeAll(bytes) }
            let reader = try FileDescriptor.open(file, .readOnly)
            let result = try reader.closeAfter { try $0.read(upTo: 1 << 20) }
            #expect(result.truncated == false)
            #expect(result.bytes == bytes)
        }
    }

    @Test func noFollowRefusesASymlink() throws {
        try withTemporaryDirectory { directory in
            let file = directory + "/file", link = directory + "/link"
            try writeFile(file, "x")
            #expect(symlink(file, link) == 0)
            let error = #expect(throws: SystemError.self) {
                _ = try FileDescriptor.open(link, .readOnly, options: [.noFollow, .closeOnExec])
            }
            #expect(error?.errno == .tooManySymbolicLinks)
            // Without O_NOFOLLOW the link is followed.
            let fd = try FileDescriptor.open(link, .readOnly)
            try fd.close()
        }
    }

    @Test func openingAFifoNonBlockingDoesNotHang() throws {
        try withTemporaryDirectory { directory in
            let fifo = directory + "/fifo"
            #expect(mkfifo(fifo, 0o600) == 0)
            // A blocking open would wait for a writer for ever; this one returns (no timing: a
            // hang is no slow success).
            let fd = try FileDescriptor.open(fifo, .readOnly, options: [.nonBlocking, .noFollow, .closeOnExec])
            #expect(try fd.status().kind == .fifo)
            let contents = try fd.read(upTo: 100)  // no writer: end of file at once
            #expect(contents.bytes.isEmpty)
            try fd.close()
            // Opening for writing with no reader fails instead of blocking.
            let error = #expect(throws: SystemError.self) {
                _ = try FileDescriptor.open(fifo, .writeOnly, options: [.nonBlocking, .closeOnExec])
            }
            #expect(error?.errno == .noSuchDeviceOrAddress)
        }
    }

    /// A descriptor closed twice is the program's mistake (the second close may hit a number
    /// another thread has opened since): a debug build stops at the first one that is seen.
    @Test func closingADescriptorThatIsNotOpenStopsADebugBuild() async throws {
        #if DEBUG
        await #expect(processExitsWith: .failure) {
            // -1, never open: a number closed a moment ago might be open again already. Not
            // `try`: the error thrown would end the process with a failure too.
            _ = try? FileDescriptor(rawValue: -1).close()
        }
        #endif
    }

    @Test func syncsAndTruncates() throws {
        try withTemporaryDirectory { directory in
            let file = directory + "/file"
            let fd = try FileDescriptor.open(file, .readWrite, options: [.create, .closeOnExec])
            try fd.writeAll(Array("hello world".utf8))
            try fd.sync()
            try fd.dataSync()
            try fd.syncFileSystem()
            try fd.truncate(to: 5)
            try fd.seek(to: 0)
            #expect(try fd.read(upTo: 100).bytes == Array("hello".utf8))
            try fd.close()
            // A number that is never open: a closed one may already be another thread's file.
            let closed = #expect(throws: SystemError.self) { try FileDescriptor(rawValue: -1).sync() }
            #expect(closed?.errno == .badFileDescriptor)
        }
    }
}

@Suite("FileSystem")
struct FileSystemTests {
    @Test func listsEntriesWithoutDotAndDotDot() throws {
        try withTemporaryDirectory { directory in
            #expect(try FileSystem.listDirectory(directory).isEmpty)
            try writeFile(directory + "/a.csv", "")
            try writeFile(directory + "/.hidden", "")
            try FileSystem.makeDirectory(directory + "/sub")
            #expect(try FileSystem.listDirectory(directory).sorted() == [".hidden", "a.csv", "sub"])
            let error = #expect(throws: SystemError.self) {
                _ = try FileSystem.listDirectory(directory + "/nope")
            }
            #expect(error?.errno == .noSuchFileOrDirectory)
        }
    }

    @Test func makesDirectoriesWithIntermediates() throws {
        try withTemporaryDirectory { directory in
            let deep = directory + "/tenants/42/incoming"
            let missingParent = #expect(throws: SystemError.self) {
                try FileSystem.makeDirectory(deep)
            }
            #expect(missingParent?.errno == .noSuchFileOrDirectory)
            try FileSystem.makeDirectory(deep, mode: 0o750, intermediate: true)
            #expect(try FileStatus.ofLink(deep).kind == .directory)
            try FileSystem.makeDirectory(deep, intermediate: true)  // already there: fine
            let exists = #expect(throws: SystemError.self) { try FileSystem.makeDirectory(deep) }
            #expect(exists?.errno == .fileExists)
            try writeFile(directory + "/file", "")
            #expect(throws: SystemError.self) {
                try FileSystem.makeDirectory(directory + "/file", intermediate: true)
            }
        }
    }

    @Test func renameReplacesButRenameNoReplaceRefuses() throws {
        try withTemporaryDirectory { directory in
            let a = directory + "/a", b = directory + "/b", c = directory + "/c"
            try writeFile(a, "A")
            try writeFile(b, "B")
            let refused = #expect(throws: SystemError.self) {
                try FileSystem.renameNoReplace(from: a, to: b)
            }
            #expect(refused?.errno == .fileExists)
            #expect(try readFile(a) == "A")
            #expect(try readFile(b) == "B")

            try FileSystem.renameNoReplace(from: a, to: c)
            #expect(!FileSystem.exists(a))
            #expect(try readFile(c) == "A")

            try FileSystem.rename(from: c, to: b)
            #expect(try readFile(b) == "A")
            #expect(!FileSystem.exists(c))
        }
    }

    @Test func linkThenUnlinkFallbackAlsoRefusesAnExistingTarget() throws {
        try withTemporaryDirectory { directory in
            let a = directory + "/a", b = directory + "/b", c = directory + "/c"
            try writeFile(a, "A")
            try writeFile(b, "B")
            let refused = #expect(throws: SystemError.self) {
                try FileSystem.linkThenUnlink(from: a, to: b)
            }
            #expect(refused?.errno == .fileExists)
            #expect(try readFile(b) == "B")
            try FileSystem.linkThenUnlink(from: a, to: c)
            #expect(!FileSystem.exists(a))
            #expect(try readFile(c) == "A")
        }
    }

    @Test func unlinkRemoveDirectoryAndExists() throws {
        try withTemporaryDirectory { directory in
            let file = directory + "/f", sub = directory + "/d", dangling = directory + "/l"
            try writeFile(file, "")
            try FileSystem.makeDirectory(sub)
            #expect(symlink(directory + "/nowhere", dangling) == 0)
            #expect(FileSystem.exists(file))
            #expect(FileSystem.exists(dangling))
            #expect(!FileSystem.exists(dangling, followSymlinks: true))
            try FileSystem.fsyncDirectory(directory)
            try FileSystem.unlink(file)
            try FileSystem.removeDirectory(sub)
            #expect(!FileSystem.exists(file))
            #expect(!FileSystem.exists(sub))
            let error = #expect(throws: SystemError.self) { try FileSystem.unlink(file) }
            #expect(error?.errno == .noSuchFileOrDirectory)
        }
    }

    @Test func parentDirectories() {
        #expect(FileSystem.parentDirectory(of: "/a/b/c") == "/a/b")
        #expect(FileSystem.parentDirectory(of: "/a/b/") == "/a")
        #expect(FileSystem.parentDirectory(of: "/a") == "/")
        #expect(FileSystem.parentDirectory(of: "a") == ".")
        #expect(FileSystem.parentDirectory(of: "a//b") == "a")
    }
}
