import ArgumentParser
import Foundation
import Logging
import Synchronization

/// The one line format of every command: `whisper-archive: LEVEL: message key=value …` on standard error, for
/// logs and for the one-line errors alike.
///
/// Metadata follows the message, sorted by key; a value with a space, a quote or an equals sign is quoted. No
/// timestamp: under systemd the journal adds one, and a terminal's commands end within the minute.
struct LogLine: LogHandler {
    /// The level in effect for every logger of the process: `--log-level`, `LOG_LEVEL`, and for `serve` the config
    /// file, re-read on SIGHUP.
    static let level = Mutex<Logger.Level>(.info)

    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    /// A level set on one logger, which then ignores the process's.
    private var ownLevel: Logger.Level?

    var logLevel: Logger.Level {
        get { ownLevel ?? Self.level.withLock { $0 } }
        set { ownLevel = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        writeStandardError(Self.format(event.level, "\(event.message)", all))
    }

    /// One line, newline included.
    static func format(_ level: Logger.Level, _ message: String, _ metadata: Logger.Metadata = [:]) -> String {
        var line = "whisper-archive: \(level.rawValue): "
        line += message.split(whereSeparator: \.isNewline).joined(separator: " ")
        for key in metadata.keys.sorted() {
            line += " \(key)=\(quoted("\(metadata[key]!)"))"
        }
        return line + "\n"
    }

    static func quoted(_ value: String) -> String {
        let plain = !value.isEmpty && !value.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }
        if plain { return value }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: " ") + "\""
    }

    /// Installs the format for the whole process, at `LOG_LEVEL` (info without it); a command's `--log-level` then
    /// sets ``level`` as it is parsed. A `LOG_LEVEL` that names no level is a usage error.
    static func bootstrap() throws(LogLevelError) {
        LoggingSystem.bootstrap { _ in LogLine() }
        if let text = ProcessInfo.processInfo.environment["LOG_LEVEL"], !text.isEmpty {
            guard let l = LogLevelOption(rawValue: text.lowercased()) else { throw LogLevelError(text: text) }
            level.withLock { $0 = l.level }
        }
    }

    /// The logger the commands write their errors and notes with.
    static let cli = Logger(label: "whisper-archive")
}

/// A `LOG_LEVEL` that is none of the levels.
struct LogLevelError: Error, CustomStringConvertible {
    var text: String
    var description: String {
        "LOG_LEVEL must be one of \(LogLevelOption.allCases.map(\.rawValue).joined(separator: ", ")), got \(text)"
    }
}

/// The levels `--log-level`, `LOG_LEVEL` and the config's `LogLevel` accept.
enum LogLevelOption: String, CaseIterable, ExpressibleByArgument, Sendable {
    case trace, debug, info, notice, warning, error

    var level: Logger.Level { Logger.Level(rawValue: rawValue)! }
}

/// `--log-level`, on every command.
struct LoggingOptions: ParsableArguments {
    @Option(
        name: .customLong("log-level"),
        help: ArgumentHelp("Least severe log lines shown: trace, debug, info, notice, warning or error (default: LOG_LEVEL, else info).", valueName: "level")
    )
    var level: LogLevelOption?

    /// Sets the process's level as the command line is parsed, before the command runs.
    func validate() throws {
        if let level { LogLine.level.withLock { $0 = level.level } }
    }
}
