import Foundation

/// The directory a bench works in: the one given (kept afterwards) or a fresh temporary one (removed afterwards).
struct BenchWorkDirectory {
    /// The directory's path.
    let path: String
    /// Whether the bench made it, and so removes it.
    let isTemporary: Bool

    /// Creates `given` when it is missing, or, when no directory is given, a new one in the temporary directory
    /// named `prefix`-UUID.
    init(given: String?, prefix: String) throws {
        path = given ?? (FileManager.default.temporaryDirectory.path + "/\(prefix)-\(UUID().uuidString)")
        isTemporary = given == nil
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// The path of `name` inside the directory.
    func file(_ name: String) -> String { path + "/" + name }

    /// Removes the directory and all in it, if the bench made it.
    func removeIfTemporary() {
        if isTemporary { try? FileManager.default.removeItem(atPath: path) }
    }
}
