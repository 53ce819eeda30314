import ArchiveFormats
import Whisper

/// The rlp stream reader (`RLPStreamSource`, the path of `import` and `inspect --file`) on a `.rlp` file.
public enum RLPStreamFuzz {
    /// One input: the whole input is the file.
    public static func run(_ data: UnsafeRawBufferPointer) {
        FormatsFuzz.drain(try? RLPStreamSource(path: Scratch.file("input.rlp", [UInt8](data))))
    }
}

/// The jsonl source (`JSONLSource`) and the line decoder under it (`EnvelopeJSON.decode(line:)`).
public enum JSONLFuzz {
    /// One input: the whole input is the file.
    public static func run(_ data: UnsafeRawBufferPointer) {
        let bytes = [UInt8](data)
        FormatsFuzz.drain(try? JSONLSource(path: Scratch.file("input.jsonl", bytes)))
        if let line = String(validating: bytes, as: UTF8.self), let envelope = try? EnvelopeJSON.decode(line: line) {
            let again = try? EnvelopeJSON.decode(line: EnvelopeJSON.encode(envelope))
            precondition(again == envelope, "a JSON envelope does not survive re-encoding")
        }
    }
}

/// The LZ4 frame reader under every source (`.lz4` files), read through the rlp stream source.
public enum LZ4Fuzz {
    /// One input: the whole input is the `.rlp.lz4` file.
    public static func run(_ data: UnsafeRawBufferPointer) {
        FormatsFuzz.drain(try? RLPStreamSource(path: Scratch.file("input.rlp.lz4", [UInt8](data))))
    }
}

enum FormatsFuzz {
    static func drain<S: EnvelopeSource>(_ source: S?) {
        guard var source else { return }
        var n = 0
        while n < 1_000_000, (try? source.next()) != nil { n += 1 }
    }
}
