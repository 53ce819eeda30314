/// Cryptographically secure random bytes from the operating system.
public enum SecureRandom {
    /// `count` random bytes.
    public static func bytes(_ count: Int) -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        var out = [UInt8](repeating: 0, count: count)
        var i = 0
        while i < count {
            let v = rng.next() as UInt64
            for j in 0..<min(8, count - i) { out[i + j] = UInt8(truncatingIfNeeded: v >> (UInt64(j) * 8)) }
            i += 8
        }
        return out
    }
}
