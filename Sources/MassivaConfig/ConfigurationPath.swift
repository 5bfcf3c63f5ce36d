/// Which configuration file to read: the `--config PATH` argument when given, else the
/// `MASSIVA_CONFIG` environment variable when set and not empty, else nil, meaning the
/// built-in defaults (`Configuration.defaults`).
public func resolveConfigurationPath(argument: String?, environment: [String: String]) -> String? {
    if let argument { return argument }
    if let fromEnvironment = environment["MASSIVA_CONFIG"], !fromEnvironment.isEmpty {
        return fromEnvironment
    }
    return nil
}
