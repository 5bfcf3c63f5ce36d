import MassivaStore

extension Engine {
    /// Finishes what a crash left: claimed files not yet recorded, result files and lists not
    /// yet written, folders of retired requests not yet removed, temporary files of dead writers.
    public func recover() throws {
        let removed = OrphanedTemporaryFiles(layout: layout).remove()
        if removed > 0 {
            log.log("temporary_files_removed", ["count": String(removed), "path": layout.temporaryDirectory])
        }
        try failUnknownStatuses()
        let ids = try intake.recover(tenants: try store.tenants(), now: clock())
        if !ids.isEmpty { log.log("recovered", ["requests": String(ids.count)]) }
        while try results.refreshFiles(limit: chunkSize) > 0 {}
        try lists.recover(on: listConnection)
        if !listsAtTheEndOnly { lists.schedule() }
    }

    /// A stored status this release does not know (a damaged page, a hand edit) would stop
    /// every later list of its tenant: the request is failed with an error outcome first.
    /// Looked for here, at start-up, not in every pass: the query reads the whole history.
    private func failUnknownStatuses() throws {
        for (id, value) in try store.requestsWithUnknownStatus() {
            let error = RecordError(table: "requests", key: id.description, column: "status", value: value)
            log.log("request_failed", ["id": id.description, "error": "\(error)"])
            try processor.fail(id, because: error, now: clock())
        }
    }
}
