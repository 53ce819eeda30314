import EthCrypto
import Foundation

/// Loads the shared public test vectors.
///
/// They are read from `../shared/vectors` beside the repository when it exists (the
/// project's source of truth), and otherwise from the copies in `Tests/Fixtures`.
public enum Vectors {
    /// The repository root, derived from this file's path.
    public static let repositoryRoot: URL = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }()

    /// The path of a vector file.
    public static func url(_ name: String) -> URL {
        let shared = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/vectors/\(name)")
        if FileManager.default.fileExists(atPath: shared.path) { return shared }
        return repositoryRoot.appendingPathComponent("Tests/Fixtures/\(name)")
    }

    /// The parsed JSON of a vector file.
    public static func json(_ name: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url(name)))
    }

    /// A JSON object (dictionary) of a vector file.
    public static func object(_ name: String) throws -> [String: Any] {
        guard let obj = try json(name) as? [String: Any] else { throw VectorError("\(name) is not a JSON object") }
        return obj
    }
}

/// A malformed vector file.
public struct VectorError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension Dictionary where Key == String, Value == Any {
    /// A string field.
    public func string(_ key: String) throws -> String {
        guard let v = self[key] as? String else { throw VectorError("missing string field \(key)") }
        return v
    }
    /// A hex field decoded to bytes (lenient about a 0x prefix and case).
    public func hex(_ key: String) throws -> [UInt8] { try Hex.decode(try string(key)) }
    /// An integer field.
    public func int(_ key: String) throws -> Int {
        guard let v = self[key] as? NSNumber else { throw VectorError("missing number field \(key)") }
        return v.intValue
    }
    /// An unsigned 64-bit field.
    public func uint64(_ key: String) throws -> UInt64 {
        guard let v = self[key] as? NSNumber else { throw VectorError("missing number field \(key)") }
        return v.uint64Value
    }
    /// A double field.
    public func double(_ key: String) throws -> Double {
        guard let v = self[key] as? NSNumber else { throw VectorError("missing number field \(key)") }
        return v.doubleValue
    }
    /// A nested object.
    public func object(_ key: String) throws -> [String: Any] {
        guard let v = self[key] as? [String: Any] else { throw VectorError("missing object field \(key)") }
        return v
    }
    /// A nested array of objects.
    public func objects(_ key: String) throws -> [[String: Any]] {
        guard let v = self[key] as? [[String: Any]] else { throw VectorError("missing array field \(key)") }
        return v
    }
}
