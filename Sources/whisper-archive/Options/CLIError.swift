import EthCrypto

/// A failure reported to the user as one line on standard error, with exit code 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    var exitCode: Int32 = 1

    init(_ description: String, exitCode: Int32 = 1) {
        self.description = description
        self.exitCode = exitCode
    }

    /// Parses hex, naming the argument in the error.
    static func parseHex(_ text: String, what: String) throws -> [UInt8] {
        do { return try Hex.decode(text) } catch { throw CLIError("\(what): \(error)") }
    }
}
