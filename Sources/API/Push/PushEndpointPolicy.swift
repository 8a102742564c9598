import Foundation
import Models
#if canImport(Glibc)
import Glibc
#endif

/// Which push endpoints Parley will send to. A subscription's endpoint is a URL a client chose, so
/// without a rule Parley could be made to request anything its network reaches (server-side request
/// forgery): an endpoint must be `https` and every address its host resolves to must be public —
/// not loopback, private, link-local, unique-local, multicast or unspecified. `allowLoopback`
/// (the `--allow-loopback-push` flag, for tests) lets `http://` loopback endpoints through.
struct PushEndpointPolicy: Sendable {
    var allowLoopback = false

    /// The endpoint as a URL, or why it is refused (`endpoint`, 400).
    func check(_ raw: String) throws(Problem) -> URL {
        guard raw.count <= 2048, let url = URL(string: raw), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty,
            url.user == nil, url.password == nil
        else { throw Problem.invalidField("endpoint", .invalidFormat, "An https URL of a push service.") }
        let addresses = Self.resolve(host)
        guard !addresses.isEmpty else { throw Problem.invalidField("endpoint", .notFound, "Its host does not resolve.") }
        let loopback = addresses.allSatisfy(Self.isLoopback)
        if allowLoopback, loopback, scheme == "http" || scheme == "https" { return url }
        guard scheme == "https" else { throw Problem.invalidField("endpoint", .invalidFormat, "An https URL of a push service.") }
        guard addresses.allSatisfy(Self.isPublic) else {
            throw Problem.invalidField("endpoint", .notAllowed, "Push services are on the public internet; this address is not.")
        }
        return url
    }

    /// The addresses `host` resolves to, as text (IPv4 dotted, IPv6 colon-hex).
    static func resolve(_ host: String) -> [String] {
        let name = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(list) }
        var addresses: [String] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            if entry.pointee.ai_family == AF_INET, let address = entry.pointee.ai_addr {
                var ipv4 = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                inet_ntop(AF_INET, &ipv4, &buffer, socklen_t(buffer.count))
                addresses.append(String(cString: buffer))
            } else if entry.pointee.ai_family == AF_INET6, let address = entry.pointee.ai_addr {
                var ipv6 = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                inet_ntop(AF_INET6, &ipv6, &buffer, socklen_t(buffer.count))
                addresses.append(String(cString: buffer))
            }
            cursor = entry.pointee.ai_next
        }
        return addresses
    }

    static func isLoopback(_ address: String) -> Bool {
        address.hasPrefix("127.") || address == "::1"
    }

    /// Whether an address is one of the public internet's.
    static func isPublic(_ address: String) -> Bool {
        if address.contains(":") {
            let lower = address.lowercased()
            if lower == "::" || lower == "::1" { return false }
            if lower.hasPrefix("fe8") || lower.hasPrefix("fe9") || lower.hasPrefix("fea") || lower.hasPrefix("feb") { return false }  // fe80::/10
            if lower.hasPrefix("fc") || lower.hasPrefix("fd") { return false }  // fc00::/7
            if lower.hasPrefix("ff") { return false }  // multicast
            if lower.hasPrefix("::ffff:") { return isPublic(String(lower.dropFirst("::ffff:".count))) }  // IPv4-mapped
            return true
        }
        let octets = address.split(separator: ".").compactMap { Int($0) }
        guard octets.count == 4 else { return false }
        switch (octets[0], octets[1]) {
        case (0, _), (10, _), (127, _), (169, 254), (192, 168), (100, 64...127): return false
        case (172, 16...31): return false
        case (224...255, _): return false
        default: return true
        }
    }
}
