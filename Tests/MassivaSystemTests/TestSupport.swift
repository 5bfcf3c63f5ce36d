import Glibc
import MassivaSystem
import MassivaTestSupport

/// A fresh directory for one test, removed (recursively) afterwards.
func withTemporaryDirectory<Result>(_ body: (String) throws -> Result) throws -> Result {
    try MassivaTestSupport.withTemporaryDirectory(prefix: "massiva-system-test", body)
}

/// Async variant of `withTemporaryDirectory`.
func withTemporaryDirectory<Result>(_ body: (String) async throws -> Result) async throws -> Result {
    try await MassivaTestSupport.withTemporaryDirectory(prefix: "massiva-system-test", body)
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
