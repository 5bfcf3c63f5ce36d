// The portal's other services; see ServiceCommands in MassivaCLI.
