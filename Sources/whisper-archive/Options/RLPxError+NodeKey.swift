import DevP2P

extension RLPxError {
    /// The message without the `RLPx:` prefix, for node key files (whose detail names the file).
    var plainText: String {
        guard code == .nodeKey, let detail else { return description }
        return detail
    }
}
