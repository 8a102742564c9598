import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A user a scenario registered, with the access token it uses over REST and realtime.
struct Account: Codable, Sendable {
    var id: String
    var username: String
    var token: String
}

/// The REST calls of the scenarios, over AsyncHTTPClient.
final class RestClient: Sendable {
    let http: HTTPClient
    /// Distinguishes this run's usernames and client message ids from earlier runs on the same server.
    let runTag: String

    init(group: any EventLoopGroup, connectionsPerNode: Int) {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connectionsPerNode)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(60))
        http = HTTPClient(eventLoopGroupProvider: .shared(group), configuration: configuration)
        runTag = String((0..<6).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
    }

    func shutdown() async throws {
        try await http.shutdown()
    }

    /// Sends a request; returns the status and body.
    func call(
        _ method: HTTPMethod,
        _ node: Node,
        _ path: String,
        token: String? = nil,
        json: [String: Any]? = nil
    ) async throws -> (status: UInt, body: ByteBuffer) {
        var request = HTTPClientRequest(url: node.baseURL + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
        }
        let response = try await http.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 4 << 20)
        return (response.status.code, body)
    }

    /// Sends a request that must answer `expected`; returns the JSON object it answered.
    func object(
        _ method: HTTPMethod,
        _ node: Node,
        _ path: String,
        token: String? = nil,
        json: [String: Any]? = nil,
        expected: UInt
    ) async throws -> [String: Any] {
        let (status, body) = try await call(method, node, path, token: token, json: json)
        guard status == expected else {
            throw BenchError("\(method) \(path) answered \(status), not \(expected): \(String(buffer: body).prefix(300))")
        }
        return (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
    }

    /// Registers `count` new users, spread over `nodes`, a few at a time.
    func registerAccounts(_ count: Int, on nodes: [Node]) async throws -> [Account] {
        try await withThrowingTaskGroup(of: (Int, Account).self) { group in
            var accounts = [Account?](repeating: nil, count: count)
            for index in 0..<count {
                if index >= 16, let (done, account) = try await group.next() { accounts[done] = account }
                group.addTask {
                    let username = "b\(self.runTag)_\(index)"
                    let answer = try await self.object(
                        .POST,
                        nodes[index % nodes.count],
                        "/api/v1/auth/register",
                        json: ["username": username, "email": "\(username)@bench.example", "password": "bench-password-\(self.runTag)"],
                        expected: 201
                    )
                    guard let user = answer["user"] as? [String: Any], let id = user["id"] as? String,
                        let token = answer["accessToken"] as? String
                    else { throw BenchError("register answered without user.id or accessToken") }
                    return (index, Account(id: id, username: username, token: token))
                }
            }
            for try await (done, account) in group { accounts[done] = account }
            return accounts.map { $0! }
        }
    }

    /// Creates a group owned by `owner` with `members` (besides the owner); returns its id.
    func createGroup(on node: Node, owner: Account, members: [Account]) async throws -> String {
        let others = members.filter { $0.id != owner.id }.map(\.id)
        let group = try await object(
            .POST, node, "/api/v1/groups", token: owner.token,
            json: ["title": "bench \(runTag)", "memberIds": Array(others.prefix(500))], expected: 201
        )
        guard let id = group["id"] as? String else { throw BenchError("POST /groups answered without an id") }
        for start in stride(from: 500, to: others.count, by: 500) {
            _ = try await object(
                .POST, node, "/api/v1/groups/\(id)/members", token: owner.token,
                json: ["userIds": Array(others[start..<min(start + 500, others.count)])], expected: 200
            )
        }
        return id
    }

    /// Sends a message; returns the status (201 created, 200 a repeat).
    func send(on node: Node, as account: Account, to conversationID: String, clientMessageID: String, body: String) async throws -> UInt {
        try await call(
            .POST, node, "/api/v1/conversations/\(conversationID)/messages", token: account.token,
            json: ["clientMessageId": clientMessageID, "body": body]
        ).status
    }
}
