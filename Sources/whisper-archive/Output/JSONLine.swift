import Foundation

/// Encodes a value as one line of JSON.
func jsonLine<T: Encodable>(_ value: T) -> String {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys]
    return (try? String(decoding: e.encode(value), as: UTF8.self)) ?? "{}"
}
