import ArgumentParser
import Foundation

/// The servers a scenario drives: one or several nodes sharing a database, on loopback only.
struct ServerOptions: ParsableArguments {
    @Option(
        name: .customLong("server"),
        help: "Base URL of a Parley node; repeat for several nodes (connections and sends are spread over them round-robin)."
    )
    var urls: [String] = ["http://127.0.0.1:8080"]

    @Option(help: "HTTP connections per node for REST calls.")
    var httpConnections = 32

    var nodes: [Node] {
        get throws { try urls.map(Node.init(url:)) }
    }

    func validate() throws {
        guard !urls.isEmpty else { throw ValidationError("Name at least one --server.") }
        _ = try nodes
        guard (1...512).contains(httpConnections) else { throw ValidationError("--http-connections must be 1…512.") }
    }
}

/// One Parley node: where its REST API and its realtime endpoint are.
struct Node: Sendable, CustomStringConvertible {
    let host: String
    let port: Int

    init(url: String) throws {
        guard let components = URLComponents(string: url), components.scheme == "http", let host = components.host else {
            throw ValidationError("'\(url)' is not an http://HOST:PORT URL.")
        }
        guard Self.isLoopback(host) else {
            throw ValidationError("'\(url)' is not on loopback; parley-bench only loads 127.0.0.0/8, ::1 and localhost.")
        }
        self.host = host == "localhost" ? "127.0.0.1" : host
        self.port = components.port ?? 80
    }

    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let octets = host.split(separator: ".")
        return octets.count == 4 && octets.first == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    var baseURL: String { "http://\(host):\(port)" }
    var description: String { baseURL }
}

/// Where results go besides standard output.
struct OutputOptions: ParsableArguments {
    @Option(help: "A label stored with the results, e.g. the backend ('sqlite', 'postgres-2-nodes').")
    var label = ""

    @Option(help: "Also append the JSON line of results to this file.")
    var output: String?
}

/// Checks that a bounded option is within its bounds.
func require<T: Comparable>(_ value: T, in range: ClosedRange<T>, _ name: String) throws {
    guard range.contains(value) else { throw ValidationError("--\(name) must be within \(range.lowerBound)…\(range.upperBound).") }
}
