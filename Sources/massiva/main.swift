import MassivaCLI
import MassivaSystem

// The composition root: the one place that reads the system's clock; every command, the engine
// and the daemon take their time from it.
CurrentProcess.exit(MassivaCommandLine.main(CommandLine.arguments, clock: .system))
