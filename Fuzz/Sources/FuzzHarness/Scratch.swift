import Foundation

/// Files a harness writes its input to: one folder per process, on tmpfs when the machine has one.
enum Scratch {
    static let root: String = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let path = base + "/whisper-archive-fuzz-\(getpid())"
        try? FileManager.default.removeItem(atPath: path)
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: Scratch.root) }
        return path
    }()

    /// Writes `bytes` to `name` in the scratch folder and returns its path.
    static func file(_ name: String, _ bytes: [UInt8]) -> String {
        let path = root + "/" + name
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { preconditionFailure("cannot write \(path)") }
        return path
    }

    /// A fresh empty folder `name` in the scratch folder.
    static func folder(_ name: String) -> String {
        let path = root + "/" + name
        try? FileManager.default.removeItem(atPath: path)
        try! FileManager.default.createDirectory(atPath: path + "/segments", withIntermediateDirectories: true)
        return path
    }

    /// The repository's Samples folder (the harness is built from the checkout it lives in).
    static let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Samples").path

    /// The bytes of a file under Samples.
    static func sample(_ relative: String) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: samples + "/" + relative) else {
            preconditionFailure("missing sample \(samples)/\(relative)")
        }
        return [UInt8](data)
    }
}
