/// GESIS meters: the matricola's 6th character is `N`.
public func isGesisMatricola(_ matricola: String) -> Bool {
    let b = Array(matricola.utf8)
    return b.count >= 6 && b[5] == UInt8(ascii: "N")
}
