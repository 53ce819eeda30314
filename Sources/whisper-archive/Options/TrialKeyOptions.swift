import ArchiveAudit
import ArgumentParser
import Foundation

/// The keys `audit` tries on every envelope: `--password`, `--sym-key`, `--private-key`, each repeatable.
struct TrialKeyOptions: ParsableArguments {
    @Option(help: "Try the symmetric key derived from this password; repeatable.")
    var password: [String] = []

    @Option(name: .customLong("password-file"), help: ArgumentHelp("Try the password in this file; repeatable.", valueName: "file"), completion: .file())
    var passwordFile: [String] = []

    @Option(name: .customLong("sym-key"), help: ArgumentHelp("Try this 32-byte symmetric key (hex); repeatable.", valueName: "hex"))
    var symKey: [SymmetricKeyArgument] = []

    @Option(name: .customLong("private-key"), help: ArgumentHelp("Try the private key in this file (64 hex digits); repeatable.", valueName: "file"), completion: .file())
    var privateKey: [String] = []

    /// The keys, named by kind and position (password #1), never by value; the private key files are read here.
    func auditKeys() throws -> [AuditKey] {
        var keys: [AuditKey] = []
        for (i, p) in password.enumerated() {
            keys.append(AuditKey(label: "password #\(i + 1)", kind: .password, key: .password(p)))
        }
        for path in passwordFile {
            let label = "password-file \((path as NSString).lastPathComponent)"
            keys.append(AuditKey(label: label, kind: .password, key: .password(try PasswordFile.read(path))))
        }
        for (i, k) in symKey.enumerated() {
            keys.append(AuditKey(label: "sym-key #\(i + 1)", kind: .symmetric, key: .symmetric(k.bytes)))
        }
        for path in privateKey {
            let key = try KeyFile.read(path)
            let pub = key.publicKey.description
            let label = "private-key \((path as NSString).lastPathComponent) (\(pub.prefix(8))…\(pub.suffix(4)))"
            keys.append(AuditKey(label: label, kind: .privateKey, key: .asymmetric(key)))
        }
        return keys
    }
}
