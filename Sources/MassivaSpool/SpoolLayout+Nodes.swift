extension SpoolLayout {
    /// The lock of the daemon named `node` (`node_name`) on a host named `host`:
    /// `private/massiva-<node>.lock`, so that daemons of different names share the spool (two
    /// hosts, each with its own lock, and the lease in the database to elect the one that
    /// works); `private/massiva.lock`, as before nodes had names, when the node is the host's
    /// own name (`node_name` unset, or set to it): one file for every daemon of one name on one
    /// host, so two of them never run at once, and a lease held by that name on this host is a
    /// dead daemon's (`LeaseKeeper`).
    public func lockPath(node: String, host: String) -> String {
        node.isEmpty || node == host ? lockPath : privateDirectory + "/massiva-" + node + ".lock"
    }
}
