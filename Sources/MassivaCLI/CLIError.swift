/// A failure the user can act on: printed as `massiva <command>: <message>`, exit `status`.
public struct CLIError: Error, CustomStringConvertible {
    public var message: String
    public var status: Int32

    public init(_ message: String, status: Int32 = 1) {
        self.message = message
        self.status = status
    }

    public var description: String { message }
}
