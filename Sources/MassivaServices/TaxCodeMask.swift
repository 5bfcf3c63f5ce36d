/// The holder's *codice fiscale* / *partita IVA* as the search shows it: the first three and the
/// last character, every other one replaced by `*` (`RSSMRA80A01H501U` → `RSS************U`).
/// Codes of four characters or fewer are masked entirely, since showing four of them would show all.
public enum TaxCodeMask {
    public static func mask(_ code: String) -> String {
        let characters = Array(code)
        guard characters.count > 4 else { return String(repeating: "*", count: characters.count) }
        return String(characters.prefix(3)) + String(repeating: "*", count: characters.count - 4) + String(characters.last!)
    }
}
