package import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A plain HTTP client for servers on real sockets.
package struct HTTP: Sendable {
    package let port: Int

    package init(port: Int) {
        self.port = port
    }

    /// A response: status, lower-cased header names, body text.
    package struct Response: Sendable {
        package var status: Int
        package var headers: [String: String]
        package var body: String

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
        headers: [String: String] = [:]
    ) async throws -> Response {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.timeoutInterval = 10
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw TestSetupError("not an HTTP response") }
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
        }
        return Response(status: http.statusCode, headers: fields, body: String(decoding: data, as: UTF8.self))
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
