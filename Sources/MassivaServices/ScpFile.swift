import MassivaDomain
import MassivaRegistry
import MassivaSystem

/// The SCP file of an association, `<SID>_<POD>.scp`, as `associate` and `scp` write it.
enum ScpFile {
    /// The SCP/1 script of an association, from the association and its POD as the registry
    /// has them now. Generated at the association's creation time, so the script of an
    /// association is the same bytes whenever it is made (by `associate`, by `scp`, in a bulk
    /// request's scp.zip), as long as the registry's data of the POD is unchanged.
    static func script(for association: Association, pod: PODRecord) -> ScpScript {
        ScpScript(requestID: association.request ?? AssociateResult.scpRequestLabel,
                  generatedAt: SystemClock.iso8601(association.createdAt),
                  deviceType: association.deviceType, sid: association.sid, nid: association.nid,
                  configurationType: association.configurationType, exchangePOD: association.pod,
                  productionPOD: association.productionPOD, matricola: pod.matricola, eneltel: pod.eneltel, gesis: pod.isGesis)
    }

    /// Writes `script` as `<directory>/<SID>_<POD>.scp`, atomically, with `caller`'s rights; its path.
    static func write(_ script: ScpScript, into directory: String, caller: CallerIdentity) throws -> String {
        let path = (directory.hasSuffix("/") ? directory : directory + "/") + script.fileName
        do {
            try caller.run { try AtomicFile.write(script.render(), to: path, temporaryDirectory: FileSystem.parentDirectory(of: path)) }
        } catch {
            throw ServiceFailure(.notWritten, "file SCP non scritto: \(path): \(error)", code: "SCP_NOT_WRITTEN")
        }
        return path
    }
}
