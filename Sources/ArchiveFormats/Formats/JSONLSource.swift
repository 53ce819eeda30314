import Whisper

/// Reads one JSON object per line (the keys of `inspect --json`, and `arrival` when known); blank lines are skipped.
public struct JSONLSource: EnvelopeSource {
    private let input: ByteInput
    private var buffer: [UInt8] = []
    private var start = 0
    private var eof = false
    private var line = 0

    /// Opens `path` (`.lz4` is decompressed).
    public init(path: String) throws(FormatError) { input = try ByteInput(path: path) }

    public var bytesRead: Int64 { input.fileBytesRead }

    public mutating func next() throws(FormatError) -> SourceItem? {
        while true {
            var end = buffer[start...].firstIndex(of: 0x0A)
            while end == nil && !eof {
                if start > 0 {
                    buffer.removeSubrange(0..<start)
                    start = 0
                }
                guard buffer.count <= Self.maxLineBytes else {
                    // A line no envelope can fill: report it once, then skip to its end without keeping it.
                    line += 1
                    let at = line
                    try skipLine()
                    return .invalid(FormatError(.invalidRecord, path: input.path, line: at, "line longer than \(Self.maxLineBytes >> 20) MiB"))
                }
                // Only the bytes read now can hold the newline: the ones before were searched already.
                let searched = buffer.count
                let chunk = try input.read()
                if chunk.isEmpty { eof = true } else { buffer.append(contentsOf: chunk) }
                end = buffer[searched...].firstIndex(of: 0x0A)
            }
            let lineEnd = end ?? buffer.count
            if lineEnd == start && end == nil { return nil }
            line += 1
            var text = buffer[start..<lineEnd]
            start = end.map { $0 + 1 } ?? buffer.count
            if text.last == 0x0D { text = text.dropLast() }
            if text.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            guard let s = String(validating: text, as: UTF8.self) else {
                return .invalid(FormatError(.invalidRecord, path: input.path, line: line, "not valid UTF-8"))
            }
            do {
                let envelope = try EnvelopeJSON.decode(line: s)
                return .envelope(envelope, arrival: try Self.arrival(in: s, text))
            } catch {
                return .invalid(FormatError(.invalidRecord, path: input.path, line: line, error.description))
            }
        }
    }

    /// Longer than any envelope's JSON (10 MiB of data is 20 MiB of hex).
    static let maxLineBytes = 64 << 20

    /// Drops the rest of an overlong line, up to and including its newline.
    private mutating func skipLine() throws(FormatError) {
        buffer.removeAll(keepingCapacity: true)
        start = 0
        while !eof {
            let chunk = try input.read()
            if chunk.isEmpty {
                eof = true
                return
            }
            if let nl = chunk.firstIndex(of: 0x0A) {
                buffer.append(contentsOf: chunk[(nl + 1)...])
                return
            }
        }
    }

    private static let arrivalKey = Array("\"arrival\"".utf8)

    /// The `arrival` key of a line (Unix seconds; 0 and absent mean unknown). The line is parsed again only when
    /// it holds the key.
    private static func arrival(in line: String, _ bytes: ArraySlice<UInt8>) throws(WhisperError) -> UInt32? {
        guard bytes.count >= arrivalKey.count,
            bytes.indices.dropLast(arrivalKey.count - 1).contains(where: { bytes[$0...].starts(with: arrivalKey) })
        else { return nil }
        guard let value = try EnvelopeJSON.parseObject(line).first(where: { $0.0 == "arrival" })?.1 else { return nil }
        guard case .number(let n) = value, let arrival = UInt32(n) else {
            throw WhisperError(.invalidEnvelope, "\"arrival\" is not an integer in 0...\(UInt32.max)")
        }
        return arrival == 0 ? nil : arrival
    }
}
