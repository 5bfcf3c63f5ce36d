import Foundation

/// NSTemporaryDirectory() without its trailing slash.
public func temporaryRoot() -> String {
    var t = NSTemporaryDirectory()
    while t.count > 1 && t.hasSuffix("/") { t.removeLast() }
    return t
}
