import Foundation
import SystemErrorText

/// `--password-file FILE`, beside every `--password`: the password stays out of the process list and the shell's
/// history. The file's text counts without the line breaks at its ends.
enum PasswordFile {
    static func read(_ path: String) throws -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .newlines) } catch {
            throw CLIError("cannot read the password file: \(SystemErrorText.describe(error, subject: path))")
        }
    }
}
