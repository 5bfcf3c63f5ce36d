import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MassivaSystem

/// A fresh directory under the system's temporary folder for one test, removed with everything
/// in it (links removed, not followed) when the last reference goes, even when the test failed.
public final class TemporaryDirectory: Sendable {
    /// The directory's absolute path, without a trailing slash.
    public let path: String

    /// Makes `<temporary folder>/<prefix>-XXXXXX` (mkdtemp, mode 0700).
    public init(prefix: String = "massiva-test") throws {
        var template = Array((temporaryRoot() + "/" + prefix + "-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw Errno.current }
        path = String(cString: made)
    }

    deinit { Self.removeTree(path) }

    /// `rm -rf path`, without following links; what cannot be removed is left.
    public static func removeTree(_ path: String) {
        guard let status = try? FileStatus.ofLink(path) else { return }
        if status.kind == .directory {
            for name in (try? FileSystem.listDirectory(path)) ?? [] { removeTree(path + "/" + name) }
            try? FileSystem.removeDirectory(path)
        } else {
            try? FileSystem.unlink(path)
        }
    }
}

/// Runs `body` with a fresh temporary directory, removed afterwards.
public func withTemporaryDirectory<Result>(prefix: String = "massiva-test",
                                           _ body: (String) throws -> Result) throws -> Result {
    let directory = try TemporaryDirectory(prefix: prefix)
    return try withExtendedLifetime(directory) { try body(directory.path) }
}

/// Async variant of `withTemporaryDirectory`.
public func withTemporaryDirectory<Result>(prefix: String = "massiva-test",
                                           _ body: (String) async throws -> Result) async throws -> Result {
    let directory = try TemporaryDirectory(prefix: prefix)
    defer { withExtendedLifetime(directory) {} }
    return try await body(directory.path)
}

/// NSTemporaryDirectory() without its trailing slash.
public func temporaryRoot() -> String {
    var t = NSTemporaryDirectory()
    while t.count > 1 && t.hasSuffix("/") { t.removeLast() }
    return t
}
