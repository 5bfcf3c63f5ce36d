import MassivaCLI
import Glibc

exit(MassivaCommandLine.main(CommandLine.arguments))
