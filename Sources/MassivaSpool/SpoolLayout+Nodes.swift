extension SpoolLayout {
    /// The lock of the daemon named `node` (`node_name`): `private/massiva-<node>.lock`, so that
    /// daemons of different names share the spool (two hosts, each with its own lock, and the
    /// lease in the database to elect the one that works); nil, `private/massiva.lock`, as
    /// before nodes had names: one daemon per spool on this host.
    public func lockPath(node: String?) -> String {
        guard let node, !node.isEmpty else { return lockPath }
        return privateDirectory + "/massiva-" + node + ".lock"
    }
}
