import ArgumentParser

/// `--json`, which every bench takes, and the progress notes a bench writes on standard error when it does not
/// print JSON.
struct BenchOutputOptions: ParsableArguments {
    @Flag(help: "Print the figures as JSON.")
    var json = false

    /// Writes `text` as one line on standard error, unless the figures go out as JSON.
    func note(_ text: String) {
        if !json { writeStandardError(text + "\n") }
    }
}
