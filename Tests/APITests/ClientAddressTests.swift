import Auth
import Testing

@Suite("Client addresses behind proxies")
struct ClientAddressTests {
    static let proxies = TrustedProxies([CIDR("10.0.0.0/8")!, CIDR("fd00::/8")!])

    @Test("Addresses and networks parse; junk does not", arguments: [
        ("192.0.2.1", true), ("2001:db8::1", true), ("[2001:db8::1]", true), ("::ffff:192.0.2.1", true),
        ("", false), ("192.0.2", false), ("example.com", false), ("1.2.3.4.5", false), ("2001:db8::g", false),
    ])
    func parsing(text: String, valid: Bool) {
        #expect((IPAddress(text) != nil) == valid)
    }

    @Test("CIDR membership, IPv4 and IPv6; an IPv4-mapped IPv6 peer counts as IPv4")
    func membership() {
        let ten = CIDR("10.0.0.0/8")!
        #expect(ten.contains(IPAddress("10.200.3.4")!))
        #expect(!ten.contains(IPAddress("11.0.0.1")!))
        #expect(ten.contains(IPAddress("::ffff:10.1.1.1")!))
        #expect(CIDR("2001:db8::/33")!.contains(IPAddress("2001:db8:7fff::1")!))
        #expect(!CIDR("2001:db8::/33")!.contains(IPAddress("2001:db8:8000::1")!))
        #expect(CIDR("192.0.2.7")!.contains(IPAddress("192.0.2.7")!))
        #expect(CIDR("10.0.0.0/33") == nil && CIDR("nonsense/8") == nil)
    }

    @Test("Forwarding headers count only from trusted proxies, back to the first untrusted hop")
    func forwarded() {
        // From an untrusted peer, the headers are ignored.
        #expect(Self.proxies.clientAddress(peer: "203.0.113.9", forwardedFor: "198.51.100.1", forwarded: nil)?.description == "203.0.113.9")
        // Through a trusted proxy: the address it saw.
        #expect(Self.proxies.clientAddress(peer: "10.0.0.2", forwardedFor: "198.51.100.1", forwarded: nil)?.description == "198.51.100.1")
        // A client cannot forge its way past the proxy: the rightmost untrusted hop wins.
        #expect(Self.proxies.clientAddress(peer: "10.0.0.2", forwardedFor: "1.1.1.1, 198.51.100.1, 10.0.0.9", forwarded: nil)?.description == "198.51.100.1")
        // RFC 7239, with quoting and ports; it wins over X-Forwarded-For.
        #expect(
            Self.proxies.clientAddress(peer: "10.0.0.2", forwardedFor: "9.9.9.9", forwarded: #"for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711""#)?
                .description == "2001:db8:cafe::17"
        )
        // An unreadable hop stops the walk at the last believable address.
        #expect(Self.proxies.clientAddress(peer: "10.0.0.2", forwardedFor: "unknown", forwarded: nil)?.description == "10.0.0.2")
        #expect(Self.proxies.clientAddress(peer: nil, forwardedFor: "198.51.100.1", forwarded: nil) == nil)
    }

    @Test("Rate limits count IPv6 clients by their /64, IPv4 clients alone")
    func limitKeys() {
        #expect(IPAddress("2001:db8:1:2:aaaa::1")!.limitKey == IPAddress("2001:db8:1:2:bbbb::9")!.limitKey)
        #expect(IPAddress("2001:db8:1:2::1")!.limitKey != IPAddress("2001:db8:1:3::1")!.limitKey)
        #expect(IPAddress("2001:db8:1:2::1")!.limitKey == "2001:db8:1:2::/64")
        #expect(IPAddress("192.0.2.1")!.limitKey == "192.0.2.1")
    }
}
