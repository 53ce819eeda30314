import ArgumentParser

/// `--archive DIR`: the archive a command works on, with the help line `Use` gives.
///
/// One declaration for every command that takes an archive; `Use` only says, in the help, what the command
/// does with the directory.
struct ArchiveLocation<Use: ArchiveUse>: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(Use.help, valueName: "dir"))
    var archive: String
}
