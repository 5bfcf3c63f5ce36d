import Glibc

/// Where the Debian package installs the configuration (a conffile). It is read when neither
/// `--config` nor `MASSIVA_CONFIG` names another, so an operator on a packaged host types
/// `massiva list` without options, and the unit's `ExecStart=/usr/bin/massiva serve` needs none.
public let defaultConfigurationPath = "/etc/massiva/massiva.cf"

/// Which configuration file to read: the `--config PATH` argument when given, else the
/// `MASSIVA_CONFIG` environment variable when set and not empty, else `defaultPath` when that
/// file exists, else nil, meaning the built-in defaults (`Configuration.defaults`).
///
/// The daemon's SIGHUP reload goes through this same function, so a reload reads the file the
/// start read (and picks up `defaultPath` if it was created since). `defaultPath` and `exists`
/// are parameters so tests can point them elsewhere than `/etc`.
public func resolveConfigurationPath(argument: String?, environment: [String: String],
                                     defaultPath: String = defaultConfigurationPath,
                                     exists: (String) -> Bool = configurationFileExists) -> String? {
    if let argument { return argument }
    if let fromEnvironment = environment["MASSIVA_CONFIG"], !fromEnvironment.isEmpty {
        return fromEnvironment
    }
    if exists(defaultPath) { return defaultPath }
    return nil
}

/// Whether `path` names something (following links, as the package's `/etc` may be managed by
/// a configuration tool that links it). An unreadable file still counts: reading it then fails
/// with a message naming it, instead of silently falling back to the built-in defaults.
public func configurationFileExists(_ path: String) -> Bool {
    var status = stat()
    return stat(path, &status) == 0
}
