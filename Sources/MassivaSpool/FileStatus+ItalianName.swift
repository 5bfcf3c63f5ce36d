import MassivaSystem

extension FileStatus.Kind {
    /// How the refusal reason names the kind of entry, in Italian.
    public var italianName: String {
        switch self {
        case .regular: return "file"
        case .directory: return "directory"
        case .symlink: return "collegamento simbolico"
        case .fifo: return "FIFO"
        case .characterDevice, .blockDevice: return "dispositivo"
        case .socket: return "socket"
        default: return "tipo sconosciuto"
        }
    }
}
