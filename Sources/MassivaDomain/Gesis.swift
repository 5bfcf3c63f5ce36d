// GESIS meters: 2G three-phase semi-direct meters. Their readings are on the secondary side of
// the current transformers, so the System Integrator must multiply them by the transformer
// ratio (the "K factor"). They are recognised by the 6th character of the matricola being `N`.

/// Whether a meter's matricola (serial number) marks a GESIS meter: its 6th character is `N`.
/// Case-sensitive: matricolas are upper-case in the registry and upper-cased on input.
public func isGesisMatricola(_ matricola: String) -> Bool {
    var utf8 = matricola.utf8.makeIterator()
    for _ in 0..<5 {
        // The first five characters must be ASCII for byte 6 to be character 6.
        guard let byte = utf8.next(), byte < 0x80 else {
            return slowIsGesis(matricola)
        }
    }
    return utf8.next() == UInt8(ascii: "N")
}

private func slowIsGesis(_ matricola: String) -> Bool {
    var index = 0
    for character in matricola {
        if index == 5 { return character == "N" }
        index += 1
    }
    return false
}
