public enum MassivaCommandLine {
    public static func main(_ arguments: [String]) -> Int32 { 0 }
}
