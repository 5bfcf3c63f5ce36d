import Glibc
import MassivaSystem

/// A fresh directory under /tmp for one test, removed (recursively) afterwards.
func withTemporaryDirectory<Result>(_ body: (String) throws -> Result) throws -> Result {
    var template = Array("/tmp/massiva-system-test.XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    guard made != nil else { throw SystemError("mkdtemp", errno: .current) }
    let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    defer { removeTree(path) }
    return try body(path)
}

/// Async variant of `withTemporaryDirectory`.
func withTemporaryDirectory<Result>(_ body: (String) async throws -> Result) async throws -> Result {
    var template = Array("/tmp/massiva-system-test.XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    guard made != nil else { throw SystemError("mkdtemp", errno: .current) }
    let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    defer { removeTree(path) }
    return try await body(path)
}

/// `rm -rf path`, without following symlinks.
func removeTree(_ path: String) {
    guard let status = try? FileStatus.ofLink(path) else { return }
    if status.kind == .directory {
        for name in (try? FileSystem.listDirectory(path)) ?? [] { removeTree(path + "/" + name) }
        try? FileSystem.removeDirectory(path)
    } else {
        try? FileSystem.unlink(path)
    }
}

/// Writes `text` to `path` (test setup; not atomic).
func writeFile(_ path: String, _ text: String) throws {
    let fd = try FileDescriptor.open(path, .writeOnly, options: [.create, .truncate, .closeOnExec])
    try fd.closeAfter { try $0.writeAll(text.utf8) }
}

/// Reads all of `path` as UTF-8 (test check).
func readFile(_ path: String) throws -> String {
    let fd = try FileDescriptor.open(path, .readOnly)
    let contents = try fd.closeAfter { try $0.read(upTo: 1 << 24) }
    return String(decoding: contents.bytes, as: UTF8.self)
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass.
func eventually(within seconds: Double = 5, _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = SystemClock.monotonic + seconds
    while SystemClock.monotonic < deadline {
        if try condition() { return true }
        try? await Task.sleep(nanoseconds: 10_000_000)
    }
    return try condition()
}
