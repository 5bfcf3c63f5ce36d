/// `search`, `associate`, `dissociate`, `report`, `audit`: the portal's other services.
enum ServiceCommands {
    static let all: [Command] = []
}
