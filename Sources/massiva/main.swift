import MassivaCLI
import MassivaSystem

CurrentProcess.exit(MassivaCommandLine.main(CommandLine.arguments))
