import Foundation

/// An IPv4 or IPv6 address as its bytes (4 or 16), parsed from its text form.
package struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    package let bytes: [UInt8]

    /// Reads `192.0.2.1`, `2001:db8::1`, `[2001:db8::1]`, and IPv4-mapped IPv6 (as IPv4).
    package init?(_ text: some StringProtocol) {
        var text = String(text).trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if let zone = text.firstIndex(of: "%") { text = String(text[..<zone]) }
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            let raw = withUnsafeBytes(of: &v6) { Array($0) }
            // ::ffff:a.b.c.d is an IPv4 peer on a dual-stack socket.
            bytes = raw.prefix(10).allSatisfy { $0 == 0 } && raw[10] == 0xFF && raw[11] == 0xFF ? Array(raw.suffix(4)) : raw
        } else {
            return nil
        }
    }

    package var isIPv6: Bool { bytes.count == 16 }

    package var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var copy = bytes
        let family = isIPv6 ? AF_INET6 : AF_INET
        guard inet_ntop(family, &copy, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
        return String(cString: buffer)
    }

    /// The key a rate limit counts this address under: an IPv4 address alone, an IPv6 address by
    /// its /64 network — one subscriber's allocation, which a client can hop around in at will.
    package var limitKey: String {
        guard isIPv6 else { return description }
        var network = bytes
        for index in 8..<16 { network[index] = 0 }
        return (try? IPAddress(bytes: network))?.description.appending("/64") ?? description
    }

    private init(bytes: [UInt8]) throws {
        self.bytes = bytes
    }
}

/// A network in CIDR notation, such as `10.0.0.0/8` or `fd00::/8`; a bare address is a /32 or /128.
package struct CIDR: Hashable, Sendable, CustomStringConvertible {
    package let network: IPAddress
    package let prefixLength: Int

    package init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard let first = parts.first, let address = IPAddress(first) else { return nil }
        let maximum = address.bytes.count * 8
        let length = parts.count == 2 ? Int(parts[1]) : maximum
        guard let length, (0...maximum).contains(length) else { return nil }
        network = address
        prefixLength = length
    }

    package func contains(_ address: IPAddress) -> Bool {
        guard address.bytes.count == network.bytes.count else { return false }
        var remaining = prefixLength
        for (mine, theirs) in zip(network.bytes, address.bytes) where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if mine & mask != theirs & mask { return false }
            remaining -= bits
        }
        return true
    }

    package var description: String { "\(network)/\(prefixLength)" }
}

/// Finds the client's address behind reverse proxies: `X-Forwarded-For` and `Forwarded` are
/// believed only when the peer that sent them is a trusted proxy, and then only as far back as the
/// chain of trusted proxies goes — the first address from the right that is not one of them.
package struct TrustedProxies: Sendable {
    package let networks: [CIDR]

    package init(_ networks: [CIDR] = []) {
        self.networks = networks
    }

    package func trusts(_ address: IPAddress) -> Bool {
        networks.contains { $0.contains(address) }
    }

    /// The client's address for a request from `peer` with these headers; the peer itself unless it
    /// is a trusted proxy.
    package func clientAddress(peer: String?, forwardedFor: String?, forwarded: String?) -> IPAddress? {
        guard let peer = peer.flatMap(IPAddress.init) else { return nil }
        guard trusts(peer) else { return peer }
        let chain = Self.forwardedAddresses(forwarded) ?? Self.forwardedForAddresses(forwardedFor)
        var client = peer
        for hop in chain.reversed() {
            guard let address = hop else { break }  // an unreadable hop ends what can be believed
            client = address
            if !trusts(address) { break }
        }
        return client
    }

    /// The addresses of `X-Forwarded-For: client, proxy1, proxy2`, oldest first.
    static func forwardedForAddresses(_ header: String?) -> [IPAddress?] {
        guard let header else { return [] }
        return header.split(separator: ",").prefix(64).map { IPAddress($0) }
    }

    /// The `for=` addresses of an RFC 7239 `Forwarded` header, oldest first; nil when there is none.
    static func forwardedAddresses(_ header: String?) -> [IPAddress?]? {
        guard let header, !header.isEmpty else { return nil }
        var addresses: [IPAddress?] = []
        for element in header.split(separator: ",").prefix(64) {
            for pair in element.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == "for" else { continue }
                var value = parts[1].trimmingCharacters(in: .whitespaces)
                if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
                // A port may follow: "[2001:db8::1]:4711" or "192.0.2.1:4711".
                if value.hasPrefix("["), let end = value.firstIndex(of: "]") {
                    value = String(value[value.index(after: value.startIndex)..<end])
                } else if value.filter({ $0 == ":" }).count == 1, let colon = value.firstIndex(of: ":") {
                    value = String(value[..<colon])
                }
                addresses.append(IPAddress(value))
            }
        }
        return addresses.isEmpty ? nil : addresses
    }
}
