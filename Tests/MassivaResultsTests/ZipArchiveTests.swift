import Foundation
import Glibc
import Testing
@testable import MassivaResults
@testable import MassivaSpool

@Suite struct ZipArchiveTests {
    /// A fresh temporary directory, removed by the caller.
    private func temporaryDirectory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "/massiva-zip-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        return String(cString: made)
    }

    /// Runs a program and returns its exit status and standard output, or nil when the
    /// program is not installed.
    private func run(_ arguments: [String]) throws -> (status: Int32, output: String)? {
        let paths = ["/usr/bin/", "/bin/", "/usr/local/bin/"]
        var executable: String? = nil
        if arguments[0] == "python3" {
            executable = "/usr/bin/env"
        } else {
            executable = paths.map { $0 + arguments[0] }.first { access($0, X_OK) == 0 }
        }
        guard let executable else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = executable == "/usr/bin/env" ? arguments : Array(arguments.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    private func scpLike(_ i: Int) -> [UInt8] {
        var text = "format=SCP/1\nrequest=MOME-000000031\ngenerated_at=2024-03-05T10:15:30+01:00\n"
        text += "device_type=MOME\ndevice_sid=16MOMSPC3000\(String(10000 + i))\n"
        text += "device_nid=DC2620001A2B\nconfiguration_type=Standard\nconfiguration_model=0x01\n"
        text += "exchange_pod=IT001E\(String(10_000_000 + i))\nproduction_pod=\n"
        text += "meter_matricola=ABC12345678\(i % 10)\nmeter_eneltel=\(String(100_000_000 + i))\n"
        text += "gesis=0\ncrc32=00000000\n"
        return Array(text.utf8)
    }

    @Test func writeThreeEntriesAndReadThemBack() throws {
        let dir = try temporaryDirectory()
        defer { _ = try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/scp.zip.tmp"
        let entries: [(name: String, bytes: [UInt8])] = [
            ("16MOMSPC300001811_IT001E00000001.scp", scpLike(1)),
            ("16SMISF8100001002_IT001E00000002.scp", scpLike(2)),
            ("empty.scp", []),
        ]
        try ZipArchive.write(entries: entries, to: path, modificationTime: 1_709_630_130)
        let back = try ZipArchive.entries(at: path)
        #expect(back.map(\.name) == entries.map(\.name))
        #expect(back.map(\.bytes) == entries.map(\.bytes))
        // A new file gets the usual 0666 & ~umask, and libzip leaves no temporary file behind.
        let mask = umask(0o022)
        umask(mask)
        var st = stat()
        #expect(stat(path, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o666 & ~mask)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["scp.zip.tmp"])

        // Independent validators.
        if let (status, output) = try run(["unzip", "-t", path]) {
            #expect(status == 0, "unzip -t: \(output)")
        }
        let script = "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); "
            + "assert z.testzip() is None; print('\\n'.join(z.namelist()))"
        if let (status, output) = try run(["python3", "-c", script, path]) {
            #expect(status == 0, "python zipfile: \(output)")
            #expect(output.split(separator: "\n").map(String.init) == entries.map(\.name))
        }
    }

    @Test func fixedTimeGivesIdenticalBytes() throws {
        let dir = try temporaryDirectory()
        defer { _ = try? FileManager.default.removeItem(atPath: dir) }
        let entries = (0..<5).map { (name: "e\($0).scp", bytes: scpLike($0)) }
        for compression in [ZipArchive.Compression.deflate, .store] {
            try ZipArchive.write(entries: entries, to: dir + "/a.zip", modificationTime: 1_709_630_130,
                                 compression: compression)
            try ZipArchive.write(entries: entries, to: dir + "/b.zip", modificationTime: 1_709_630_130,
                                 compression: compression)
            let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/a.zip"))
            let b = try Data(contentsOf: URL(fileURLWithPath: dir + "/b.zip"))
            #expect(a == b)
            #expect(try ZipArchive.entries(at: dir + "/a.zip").map(\.bytes) == entries.map(\.bytes))
        }
    }

    @Test func emptyArchiveIsValid() throws {
        let dir = try temporaryDirectory()
        defer { _ = try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/empty.zip"
        // Over an existing file too: it is truncated.
        try ZipArchive.write(entries: [("x", [1, 2, 3])], to: path, modificationTime: nil)
        try ZipArchive.write(entries: [], to: path, modificationTime: nil)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes == ZipArchive.emptyArchive)
        #expect(bytes.count == 22)
        #expect(try ZipArchive.entries(at: path).isEmpty)
        let script = "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); "
            + "assert z.testzip() is None; assert z.namelist()==[]; print('ok')"
        if let (status, output) = try run(["python3", "-c", script, path]) {
            #expect(status == 0, "python zipfile: \(output)")
        }
        if let (status, output) = try run(["unzip", "-l", path]) {
            // unzip says "zipfile is empty" and exits 1 for an empty but valid archive.
            #expect(status == 0 || output.contains("empty"), "unzip -l: \(output)")
        }
    }

    @Test func errorsCarryPathAndMessage() throws {
        let dir = try temporaryDirectory()
        defer { _ = try? FileManager.default.removeItem(atPath: dir) }
        let missing = dir + "/no/such/dir/x.zip"
        #expect {
            try ZipArchive.write(entries: [("a", [1])], to: missing, modificationTime: nil)
        } throws: { error in
            guard let error = error as? ZipArchiveError else { return false }
            return error.path == missing && !error.message.isEmpty
        }
        let duplicate = dir + "/dup.zip"
        #expect {
            try ZipArchive.write(entries: [("a", [1]), ("a", [2])], to: duplicate, modificationTime: nil)
        } throws: { error in
            guard let error = error as? ZipArchiveError else { return false }
            return error.path == duplicate && error.operation.contains("a") && !error.message.isEmpty
        }
        #expect(access(duplicate, F_OK) != 0)
        // Not a zip.
        let garbage = dir + "/garbage.zip"
        _ = FileManager.default.createFile(atPath: garbage, contents: Data("hello".utf8))
        #expect(throws: ZipArchiveError.self) { _ = try ZipArchive.entries(at: garbage) }
        #expect(throws: ZipArchiveError.self) { _ = try ZipArchive.entries(at: dir + "/none.zip") }
    }
}
