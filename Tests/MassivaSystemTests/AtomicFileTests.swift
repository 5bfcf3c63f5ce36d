import Glibc
import MassivaSystem
import Testing

@Suite("AtomicFile")
struct AtomicFileTests {
    @Test func writeLeavesNoTemporaryAndReplacesContent() throws {
        try withTemporaryDirectory { directory in
            let tmp = directory + "/tmp", out = directory + "/out"
            try FileSystem.makeDirectory(tmp)
            try FileSystem.makeDirectory(out)
            let destination = out + "/result.csv"

            try AtomicFile.write(Array("first\n".utf8), to: destination, temporaryDirectory: tmp)
            #expect(try readFile(destination) == "first\n")
            let firstInode = try FileStatus.ofLink(destination).inode

            try AtomicFile.write("second\n".utf8, to: destination, temporaryDirectory: tmp,
                                 permissions: 0o600, durable: false)
            #expect(try readFile(destination) == "second\n")
            #expect(try FileStatus.ofLink(destination).inode != firstInode)  // a new file was renamed in
            #expect(try FileStatus.ofLink(destination).permissions == 0o600)
            #expect(try FileSystem.listDirectory(tmp).isEmpty)
            #expect(try FileSystem.listDirectory(out) == ["result.csv"])
        }
    }

    @Test func failedRenameRemovesTheTemporaryFile() throws {
        try withTemporaryDirectory { directory in
            let tmp = directory + "/tmp"
            try FileSystem.makeDirectory(tmp)
            let error = #expect(throws: SystemError.self) {
                try AtomicFile.write(Array("x".utf8), to: directory + "/missing/dir/file",
                                     temporaryDirectory: tmp)
            }
            #expect(error?.errno == .noSuchFileOrDirectory)
            #expect(try FileSystem.listDirectory(tmp).isEmpty)
        }
    }

    @Test func temporaryNamesAreUniqueAndHidden() {
        let names = (0..<1000).map { _ in TemporaryName.make() }
        #expect(Set(names).count == names.count)
        #expect(names.allSatisfy { $0.hasPrefix(".tmp.\(getpid()).") })
    }

    @Test func batchCommitRenamesAllAndEmptiesTheTemporaryDirectory() throws {
        try withTemporaryDirectory { directory in
            let tmp = directory + "/tmp"
            try FileSystem.makeDirectory(tmp)
            for tenant in ["1", "2", "3"] {
                try FileSystem.makeDirectory(directory + "/tenants/\(tenant)/results", intermediate: true)
            }
            try writeFile(directory + "/tenants/1/results/r0.csv", "old")

            var batch = AtomicFileBatch(temporaryDirectory: tmp)
            var expected: [String: String] = [:]
            for index in 0..<300 {
                let path = directory + "/tenants/\(index % 3 + 1)/results/r\(index).csv"
                let content = "row \(index)\n"
                try batch.stage(Array(content.utf8), to: path)
                expected[path] = content
            }
            #expect(batch.count == 300)
            #expect(try FileSystem.listDirectory(tmp).count == 300)
            // Nothing is visible before commit (r0 still holds its old content).
            #expect(try readFile(directory + "/tenants/1/results/r0.csv") == "old")
            #expect(!FileSystem.exists(directory + "/tenants/2/results/r1.csv"))

            try batch.commit()
            #expect(batch.isEmpty)
            #expect(try FileSystem.listDirectory(tmp).isEmpty)
            for (path, content) in expected {
                #expect(try readFile(path) == content)
            }
            #expect(try FileSystem.listDirectory(directory + "/tenants/2/results").count == 100)
            try batch.commit()  // empty: no-op
        }
    }

    @Test func batchKeepsFailedEntriesForDiscard() throws {
        try withTemporaryDirectory { directory in
            let tmp = directory + "/tmp"
            try FileSystem.makeDirectory(tmp)
            var batch = AtomicFileBatch(temporaryDirectory: tmp)
            try batch.stage(Array("a".utf8), to: directory + "/a")
            try batch.stage(Array("b".utf8), to: directory + "/no/such/b")
            try batch.stage(Array("c".utf8), to: directory + "/c")
            let error = #expect(throws: SystemError.self) { try batch.commit() }
            #expect(error?.errno == .noSuchFileOrDirectory)
            #expect(try readFile(directory + "/a") == "a")
            #expect(batch.entries.map(\.finalPath) == [directory + "/no/such/b", directory + "/c"])
            #expect(try FileSystem.listDirectory(tmp).count == 2)
            batch.discard()
            #expect(batch.isEmpty)
            #expect(try FileSystem.listDirectory(tmp).isEmpty)
            #expect(!FileSystem.exists(directory + "/c"))
        }
    }
}
