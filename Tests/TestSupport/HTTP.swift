import AsyncHTTPClient
package import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// A plain HTTP client for servers on real sockets.
///
/// It runs on AsyncHTTPClient, over SwiftNIO's event loops: Foundation's URLSession on Linux waits
/// on its sockets with `select()`, which stops working once a process has more than 1,024 files
/// open — as the suite, with its many sockets, does.
package struct HTTP: Sendable {
    package let port: Int

    package init(port: Int) {
        self.port = port
    }

    /// A response: status, lower-cased header names, body bytes and text.
    package struct Response: Sendable {
        package var status: Int
        package var headers: [String: String]
        package var data: Data
        package var body: String { String(decoding: data, as: UTF8.self) }

        /// The body as a JSON object.
        package var json: [String: Any] {
            ((try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]) ?? [:]
        }
    }

    package func request(
        _ method: String,
        _ path: String,
        json: [String: any Sendable]? = nil,
        token: String? = nil,
        headers: [String: String] = [:],
        timeout: Duration = .seconds(10)
    ) async throws -> Response {
        var headers = headers
        var body: String?
        if let json {
            body = String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
            headers["Content-Type"] = "application/json"
        }
        if let token { headers["Authorization"] = "Bearer \(token)" }
        return try await request(method, path, body: body, headers: headers, timeout: timeout)
    }

    /// A request with a body of any kind.
    package func request(
        _ method: String, _ path: String, body: String?, headers: [String: String] = [:], timeout: Duration = .seconds(10)
    ) async throws -> Response {
        try await request(method, path, data: body.map { Data($0.utf8) }, headers: headers, timeout: timeout)
    }

    /// A request with a body of bytes.
    package func request(
        _ method: String, _ path: String, data: Data?, headers: [String: String] = [:], timeout: Duration = .seconds(10)
    ) async throws -> Response {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        if let data { request.body = .bytes(ByteBuffer(bytes: data)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .init(timeout))
        var fields: [String: String] = [:]
        for header in response.headers { fields[header.name.lowercased()] = header.value }
        let data = try await response.body.collect(upTo: 64 << 20)
        return Response(status: Int(response.status.code), headers: fields, data: Data(buffer: data))
    }

    /// A signed-in user.
    package struct Account: Sendable {
        package var id: String
        package var accessToken: String
        package var refreshToken: String
        package var sessionId: String
    }

    /// Registers `username` (email `username@example.com`).
    package func register(_ username: String, password: String = "correct horse battery") async throws -> Account {
        let response = try await request(
            "POST",
            "/api/v1/auth/register",
            json: ["username": username, "email": "\(username)@example.com", "password": password]
        )
        guard response.status == 201 else { throw TestSetupError("register \(username): \(response.status) \(response.body)") }
        let json = response.json
        return Account(
            id: (json["user"] as? [String: Any])?["id"] as? String ?? "",
            accessToken: json["accessToken"] as? String ?? "",
            refreshToken: json["refreshToken"] as? String ?? "",
            sessionId: json["sessionId"] as? String ?? ""
        )
    }

    /// Creates a group owned by `owner` with `members`; returns its id.
    package func group(_ owner: Account, members: [Account], title: String = "Group") async throws -> String {
        let response = try await request("POST", "/api/v1/groups", json: ["title": title, "memberIds": members.map(\.id)], token: owner.accessToken)
        guard response.status == 201, let id = response.json["id"] as? String else { throw TestSetupError("group: \(response.body)") }
        return id
    }

    /// Sends a message over REST; returns its seq.
    @discardableResult
    package func send(_ body: String, to conversation: String, as account: Account, clientMessageID: String = UUID().uuidString) async throws -> Int64 {
        let response = try await request(
            "POST",
            "/api/v1/conversations/\(conversation)/messages",
            json: ["clientMessageId": clientMessageID, "body": body],
            token: account.accessToken
        )
        guard response.status == 201 || response.status == 200, let seq = response.json["seq"] as? NSNumber else {
            throw TestSetupError("send: \(response.status) \(response.body)")
        }
        return seq.int64Value
    }

    /// Waits for `GET /readyz` to answer 200.
    package func waitUntilReady(timeout: Duration = .seconds(30)) async throws {
        try await eventually(timeout: timeout, "/readyz to answer 200") { () -> Bool? in
            (try? await request("GET", "/readyz").status) == 200 ? true : nil
        }
    }
}
