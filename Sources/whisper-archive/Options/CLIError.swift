import EthCrypto

/// A failure reported to the user as one line on standard error, with exit code 1 (2 for a usage error).
struct CLIError: Error, CustomStringConvertible {
    var description: String
    var exitCode: Int32 = 1

    init(_ description: String, exitCode: Int32 = 1) {
        self.description = description
        self.exitCode = exitCode
    }

    /// A usage error (exit 2) found only when the command runs.
    static func usage(_ description: String) -> CLIError { CLIError(description, exitCode: 2) }

    /// Parses hex data (not a key: data is a failure, exit 1), naming the argument in the error.
    static func parseHex(_ text: String, what: String) throws -> [UInt8] {
        do { return try Hex.decode(text) } catch { throw CLIError("\(what): \(error)") }
    }
}
