import MassivaSystem

/// `DIR/pods.csv` and `DIR/devices.csv`, opened for `RegistryImporter`.
///
/// `massiva registry import` opens them with the operator's rights, before it takes the spool
/// owner's identity, and reads them afterwards through the descriptors: a folder in root's
/// 0700 home is root's to read, never the daemon's user's, and the files are streamed (2.6 GB
/// of pods.csv is not read into memory first).
public final class RegistryFiles {
    /// The folder, as given (it names the files in messages).
    public let directory: String
    let pods: RegistryFile
    let devices: RegistryFile

    /// Opens both files now; a file that cannot be opened is reported when the import reads it,
    /// as every other problem of the files.
    public init(directory: String) {
        self.directory = directory
        pods = RegistryFile(path: directory + "/pods.csv")
        devices = RegistryFile(path: directory + "/devices.csv")
    }

    deinit {
        pods.close()
        devices.close()
    }
}

/// One registry file, opened: its descriptor, or why it could not be opened.
struct RegistryFile {
    let path: String
    let opened: Result<FileDescriptor, any Error>

    /// The file's name in messages (`pods.csv`).
    var name: String { path.split(separator: "/").last.map(String.init) ?? path }

    init(path: String) {
        self.path = path
        opened = Result { try Self.open(path) }
    }

    /// A registry file is master data: never a link, and a regular file (opened non-blocking
    /// and checked on the descriptor: a FIFO as pods.csv hung the import). No size limit: it is
    /// read in chunks, and Italy's largest registry is 2.6 GB of pods.csv.
    private static func open(_ path: String) throws -> FileDescriptor {
        let fd = try FileDescriptor.open(path, .readOnly, options: [.noFollow, .closeOnExec, .nonBlocking, .noControllingTerminal])
        do {
            let status = try fd.status()
            guard status.kind == .regular else { throw RecordStream.NotRegular(kind: status.kind) }
        } catch {
            try? fd.close()
            throw error
        }
        return fd
    }

    func close() {
        if case .success(let fd) = opened { try? fd.close() }
    }
}
