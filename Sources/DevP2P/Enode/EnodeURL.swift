import EthCrypto

/// An enode URL: `enode://<128 hex>@host:port[?discport=N]` (rlpx-rlp.md §10).
public struct EnodeURL: Hashable, Sendable, CustomStringConvertible, LosslessStringConvertible {
    /// The node's static public key.
    public var publicKey: PublicKey
    /// IP address or host name; nil for an incomplete node (key only), which cannot be dialled.
    public var host: String?
    /// TCP port.
    public var tcpPort: Int
    /// UDP discovery port (the TCP port unless `?discport=` says otherwise).
    public var udpPort: Int

    /// A node at `host:tcpPort`.
    public init(publicKey: PublicKey, host: String?, tcpPort: Int, udpPort: Int? = nil) {
        self.publicKey = publicKey
        self.host = host
        self.tcpPort = tcpPort
        self.udpPort = udpPort ?? tcpPort
    }

    /// Parses an enode URL; a bare 128-hex key or `enode://<key>` gives an incomplete node.
    public init(parsing text: String) throws(RLPxError) {
        var rest = Substring(text.trimmingCharacters(in: " \t\r\n"))
        let hasScheme = rest.hasPrefix("enode://")
        if hasScheme {
            rest = rest.dropFirst("enode://".count)
        } else if rest.contains("://") {
            throw RLPxError(.invalidEnode, "scheme must be enode://")
        }
        var keyText: Substring
        var hostPart: Substring?
        if let at = rest.firstIndex(of: "@") {
            keyText = rest[..<at]
            hostPart = rest[rest.index(after: at)...]
        } else {
            keyText = rest
        }
        // Hex is accepted with or without 0x everywhere, the key of an enode URL included (it is printed without).
        if keyText.hasPrefix("0x") || keyText.hasPrefix("0X") { keyText = keyText.dropFirst(2) }
        guard keyText.count == 128, let keyBytes = try? Hex.decode(keyText), let key = try? PublicKey(bytes: keyBytes) else {
            throw RLPxError(.invalidEnode, "the node key must be 128 hex digits of a secp256k1 point")
        }
        guard var hp = hostPart else {
            self.init(publicKey: key, host: nil, tcpPort: 0)
            return
        }
        var udp: Int?
        if let q = hp.firstIndex(of: "?") {
            let query = hp[hp.index(after: q)...]
            hp = hp[..<q]
            for item in query.split(separator: "&") {
                let kv = item.split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0] == "discport" {
                    guard let p = Int(kv[1]), (0...65535).contains(p) else {
                        throw RLPxError(.invalidEnode, "invalid discport \(kv[1])")
                    }
                    udp = p
                }
            }
        }
        let host: Substring
        let portText: Substring
        if hp.hasPrefix("[") {
            guard let close = hp.firstIndex(of: "]") else { throw RLPxError(.invalidEnode, "unclosed [ in IPv6 host") }
            host = hp[hp.index(after: hp.startIndex)..<close]
            let after = hp[hp.index(after: close)...]
            guard after.hasPrefix(":") else { throw RLPxError(.invalidEnode, "missing port") }
            portText = after.dropFirst()
        } else {
            guard let colon = hp.lastIndex(of: ":") else { throw RLPxError(.invalidEnode, "missing port") }
            host = hp[..<colon]
            portText = hp[hp.index(after: colon)...]
        }
        guard !host.isEmpty else { throw RLPxError(.invalidEnode, "empty host") }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw RLPxError(.invalidEnode, "invalid port \(portText)")
        }
        self.init(publicKey: key, host: String(host), tcpPort: port, udpPort: udp)
    }

    /// Parses `description`; nil when malformed.
    public init?(_ description: String) {
        guard let v = try? EnodeURL(parsing: description) else { return nil }
        self = v
    }

    /// True when the URL carries a host and port.
    public var isDialable: Bool { host != nil && tcpPort > 0 }

    /// The URL text (IPv6 in brackets; `?discport=` only when it differs).
    public var description: String {
        guard let host else { return "enode://\(publicKey.bytes.hex)" }
        let h = host.contains(":") ? "[\(host)]" : host
        var s = "enode://\(publicKey.bytes.hex)@\(h):\(tcpPort)"
        if udpPort != tcpPort { s += "?discport=\(udpPort)" }
        return s
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        let chars = Set(set)
        var s = Substring(self)
        while let f = s.first, chars.contains(f) { s.removeFirst() }
        while let l = s.last, chars.contains(l) { s.removeLast() }
        return String(s)
    }
}
