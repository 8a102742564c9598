import Foundation
import Store
import TestSupport
import Testing

/// The built `parley` binary, over real sockets.
@Suite("The parley executable", .serialized, .timeLimit(.minutes(2)))
struct LiveServerTests {
    static let flags = ["--host", "--port", "--data-dir", "--database-url", "--smtp-url", "--public-url", "--password-cost"]
    static let environment = ["PARLEY_HOST", "PARLEY_PORT", "PARLEY_DATA_DIR", "DATABASE_URL", "PARLEY_SMTP_URL", "PARLEY_PUBLIC_URL", "PARLEY_PASSWORD_COST"]

    @Test("--help explains every subcommand, and each subcommand the flags that apply to it, with their environment variables")
    func help() async throws {
        let top = try await run([ParleyProcess.executable, "--help"], environment: ["COLUMNS": "80"])
        #expect(top.status == 0)
        for subcommand in ["serve", "api", "realtime", "migrate", "keys"] { #expect(top.output.contains(subcommand)) }
        #expect(top.output.split(separator: "\n").allSatisfy { $0.count <= 80 }, "\(top.output)")
        // Each paragraph wraps as one: a line followed by more of its paragraph nearly fills the width.
        let overview = top.output.components(separatedBy: "USAGE:")[0].split(separator: "\n", omittingEmptySubsequences: false)
        for (line, next) in zip(overview, overview.dropFirst()) where !line.isEmpty && !next.isEmpty {
            #expect(line.count >= 60, "a paragraph broken early: \(line)")
        }
        let apiOnly = ["--smtp-url", "--public-url", "--password-cost", "--max-group-members", "--public-dir"]
        let realtimeOnly = ["--max-connections-per-user", "--max-connections-per-address"]
        let expected: [String: (has: [String], lacks: [String])] = [
            "serve": (Self.flags + apiOnly + realtimeOnly, []),
            "api": (["--host", "--port", "--database-url"] + apiOnly, ["--data-dir"] + realtimeOnly),
            "realtime": (["--host", "--port", "--database-url"] + realtimeOnly, ["--data-dir"] + apiOnly),
        ]
        for (subcommand, flags) in expected {
            let help = try await run([ParleyProcess.executable, subcommand, "--help"])
            #expect(help.status == 0)
            for flag in flags.has { #expect(help.output.contains(flag), "\(subcommand) --help lacks \(flag)") }
            for flag in flags.lacks { #expect(!help.output.contains(flag), "\(subcommand) --help lists \(flag)") }
            #expect(help.output.contains("search_path"), "\(subcommand) --help does not say how to use a schema")
        }
        let serve = try await run([ParleyProcess.executable, "serve", "--help"])
        for variable in Self.environment { #expect(serve.output.contains(variable), "serve --help lacks \(variable)") }
        let migrate = try await run([ParleyProcess.executable, "migrate", "--help"])
        for flag in ["--data-dir", "--database-url"] { #expect(migrate.output.contains(flag)) }
    }

    @Test("A malformed setting is refused with exit code 64 naming it, whether a flag or an environment variable")
    func strictSettings() async throws {
        let cases: [(arguments: [String], environment: [String: String], named: String)] = [
            (["--port", "18305x"], [:], "--port"),
            ([], ["PARLEY_PORT": "18305x"], "PARLEY_PORT"),
            ([], ["PARLEY_PASSWORD_COST": "abc"], "PARLEY_PASSWORD_COST"),
            ([], ["PARLEY_MAX_GROUP_MEMBERS": "lots"], "PARLEY_MAX_GROUP_MEMBERS"),
            ([], ["PARLEY_ALLOW_LOOPBACK_PUSH": "yes"], "PARLEY_ALLOW_LOOPBACK_PUSH"),
        ]
        let directory = try Repository.temporaryDirectory("parley-settings")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (arguments, environment, named) in cases {
            let refused = try await run([ParleyProcess.executable, "serve", "--data-dir", directory] + arguments, environment: environment)
            #expect(refused.status == 64 && refused.output.contains(named), "\(named): \(refused.status) \(refused.output)")
        }
    }

    @Test("Serves over a real socket, keeps secrets out of its log, and stops cleanly on SIGTERM", arguments: TestBackend.all)
    func servesAndStops(backend: TestBackend) async throws {
        try await backend.withLocation { location in
            let logs = try Repository.temporaryDirectory("parley-live")
            defer { try? FileManager.default.removeItem(atPath: logs) }
            let server = try await ParleyProcess.start(arguments: location.arguments, logDirectory: logs)
            try await server.waitUntilReady()

            let password = "a very secret passphrase"
            let registered = try await server.request(
                "POST", "/api/v1/auth/register",
                json: #"{"username":"alice","email":"alice@example.com","password":"\#(password)"}"#,
                headers: ["X-Request-Id": "live-test-1", "User-Agent": "live-tests"]
            )
            #expect(registered.status == 201)
            #expect(registered.headers["x-request-id"] == "live-test-1")
            let session = try JSONDecoder().decode([String: JSONValue].self, from: Data(registered.body.utf8))
            let accessToken = try #require(session["accessToken"]?.string)
            let refreshToken = try #require(session["refreshToken"]?.string)

            let me = try await server.request("GET", "/api/v1/me", headers: ["Authorization": "Bearer \(accessToken)"])
            #expect(me.status == 200)
            #expect(me.body.contains(#""username":"alice""#))
            let wrong = try await server.request("POST", "/api/v1/auth/login", json: #"{"login":"alice","password":"wrong and secret"}"#)
            #expect(wrong.status == 401)
            #expect(wrong.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
            let spec = try await server.request("GET", "/openapi.yaml")
            #expect(spec.status == 200 && spec.body.hasPrefix("openapi: 3.1"))

            // Security events are logged as such, naming the user and the client, never a secret.
            let changed = try await server.request(
                "POST", "/api/v1/auth/password", json: #"{"currentPassword":"\#(password)","newPassword":"\#(password) two"}"#,
                headers: ["Authorization": "Bearer \(accessToken)"]
            )
            #expect(changed.status == 204, "\(changed.body)")
            let refreshed = try await server.request("POST", "/api/v1/auth/refresh", json: #"{"refreshToken":"\#(refreshToken)"}"#)
            let newRefresh = try #require(try JSONDecoder().decode([String: JSONValue].self, from: Data(refreshed.body.utf8))["refreshToken"]?.string)
            #expect(try await server.request("POST", "/api/v1/auth/refresh", json: #"{"refreshToken":"\#(newRefresh)"}"#).status == 200)
            #expect(try await server.request("POST", "/api/v1/auth/refresh", json: #"{"refreshToken":"\#(refreshToken)"}"#).status == 401)
            // (The password change proved the password, which cleared the earlier wrong one: 11 make a lockout.)
            for _ in 0..<11 { _ = try await server.request("POST", "/api/v1/auth/login", json: #"{"login":"alice","password":"wrong and secret"}"#) }

            await server.process.signal(SIGTERM)
            #expect(try await server.process.waitForExit(timeout: .seconds(15)) == 0)
            let log = server.process.output()
            #expect(log.contains("live-test-1"), "the access log names the request id")
            #expect(log.contains("security.event=refresh_token_reuse"), "a reused refresh token is a security event")
            #expect(log.contains("security.event=login_rate_limited"), "so is a lockout")
            #expect(log.contains("security.event=password_changed"), "and a new password")
            #expect(log.contains("client.address=127.0.0.1"))
            for secret in [password, "wrong and secret", accessToken, refreshToken, newRefresh] + [password + " two"] {
                #expect(!log.contains(secret), "the log must not contain \(secret.prefix(12))…")
            }
        }
    }

    @Test("--log-format json: one object per line; a request's line names its id, operation, status, duration, user and node", arguments: [TestBackend.sqlite])
    func jsonLogs(backend: TestBackend) async throws {
        try await backend.withLocation { location in
            let logs = try Repository.temporaryDirectory("parley-live")
            defer { try? FileManager.default.removeItem(atPath: logs) }
            let server = try await ParleyProcess.start(arguments: location.arguments + ["--log-format", "json"], logDirectory: logs)
            try await server.waitUntilReady()
            let registered = try await server.request(
                "POST", "/api/v1/auth/register", json: #"{"username":"jojo","email":"jo@example.com","password":"a secret phrase"}"#
            )
            let session = try #require(try JSONSerialization.jsonObject(with: Data(registered.body.utf8)) as? [String: Any])
            let token = try #require(session["accessToken"] as? String)
            let userID = try #require((session["user"] as? [String: Any])?["id"] as? String)
            #expect(try await server.request("GET", "/api/v1/me", headers: ["Authorization": "Bearer \(token)", "X-Request-Id": "json-log-1"]).status == 200)
            await server.process.signal(SIGTERM)
            #expect(try await server.process.waitForExit(timeout: .seconds(15)) == 0)

            let lines = server.process.output().split(separator: "\n").filter { $0.hasPrefix("{") }
            let records = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(!records.isEmpty && records.count == lines.count, "every line is one JSON object")
            #expect(records.allSatisfy { $0["ts"] is String && $0["level"] is String && $0["message"] is String && ($0["node"] as? String)?.isEmpty == false })
            let me = try #require(records.first { $0["request.id"] as? String == "json-log-1" })
            #expect(me["operation"] as? String == "getMe")
            #expect(me["status"] as? Double == 200 && me["ms"] is Double)
            #expect(me["user.id"] as? String == userID)
            #expect(me["method"] as? String == "GET" && me["path"] as? String == "/api/v1/me")
            #expect(!server.process.output().contains(token) && !server.process.output().contains("a secret phrase"))
        }
    }

    @Test("--metrics-port: /metrics on its own listener counts requests by operation and status, WebSockets, database waits, bus lag, queues, mail, memory, descriptors and uptime", arguments: [TestBackend.sqlite])
    func metrics(backend: TestBackend) async throws {
        try await backend.withLocation { location in
            let logs = try Repository.temporaryDirectory("parley-live")
            defer { try? FileManager.default.removeItem(atPath: logs) }
            let freePort = try await run([Repository.root.appendingPathComponent("scripts/free-port").path])
            let metricsPort = try #require(Int(freePort.output.trimmingCharacters(in: .whitespacesAndNewlines)))
            let server = try await ParleyProcess.start(arguments: location.arguments + ["--metrics-port", String(metricsPort)], logDirectory: logs)
            try await server.waitUntilReady()
            let metrics = HTTP(port: metricsPort)
            func scrape() async throws -> String {
                let answer = try await metrics.request("GET", "/metrics")
                #expect(answer.status == 200)
                return answer.body
            }
            /// The value of a sample, by its name with labels.
            func value(_ sample: String, in text: String) -> Double? {
                text.split(separator: "\n").first { $0.hasPrefix(sample + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
            }
            let before = try await scrape()
            #expect(!before.contains(#"operation="getMe""#))
            let writesBefore = try #require(value("parley_db_wait_seconds_count", in: before), "the migration's writes")

            let http = HTTP(port: server.port)
            let momo = try await http.register("momo")
            let token = momo.accessToken
            for _ in 0..<3 { #expect(try await server.request("GET", "/api/v1/me", headers: ["Authorization": "Bearer \(token)"]).status == 200) }
            #expect(try await server.request("GET", "/api/v1/me").status == 401)
            let socket = try await http.connect(momo)
            let notes = try await http.group(momo, members: [], title: "Notes")
            try await http.send("to self", to: notes, as: momo)
            _ = try await socket.next(where: { $0.type == "message.created" })

            let after = try await scrape()
            #expect(after.contains(#"parley_http_requests_total{operation="getMe",status="200"} 3"#), "\(after)")
            #expect(after.contains(#"parley_http_requests_total{operation="getMe",status="401"} 1"#))
            #expect(after.contains(#"parley_http_requests_total{operation="register",status="201"} 1"#))
            #expect(after.contains(#"parley_http_request_duration_seconds_count{operation="getMe"} 4"#))
            #expect(after.contains("parley_websockets_open 1"))
            #expect(after.contains("parley_resumes_total 1"))
            // One hash at registration: it went through the bounded pool, which is empty again.
            #expect(after.contains("parley_password_hashing_duration_seconds_count 1"))
            #expect(after.contains("parley_password_hashing_queued 0"))
            let delivered = after.split(separator: "\n").first { $0.hasPrefix("parley_events_delivered_total ") }
            #expect(delivered.flatMap { Int($0.split(separator: " ")[1]) }.map { $0 >= 2 } == true, "conversation.joined and message.created at least")
            for gauge in ["parley_process_resident_memory_bytes", "parley_process_open_fds", "parley_process_uptime_seconds"] {
                #expect(after.contains("\n\(gauge) "), "\(gauge)")
            }
            // The database: writes waited for the writer, which is free again; the bus carried this
            // node's commits to its connections; the queues are there and empty.
            #expect(try #require(value("parley_db_wait_seconds_count", in: after)) > writesBefore)
            #expect(value("parley_bus_lag_seconds_count", in: after).map { $0 >= 2 } == true)
            #expect(value("parley_outbox_queued", in: after) == 0)
            #expect(value("parley_outbox_queued_largest", in: after) == 0)
            for queue in ["pushes", "exports", "accountDeletions"] {
                #expect(value(#"parley_jobs_waiting{queue="\#(queue)"}"#, in: after) == 0, "\(queue)")
            }
            // Registration queued a verification mail, written to the log here.
            try await eventually("the verification mail counted") { () -> Bool? in
                let text = try await scrape()
                return value("parley_mails_sent_total", in: text) == 1 && value("parley_mail_queued", in: text) == 0 ? true : nil
            }
            // Never on the public port.
            #expect(try await server.request("GET", "/metrics").status == 404)
            socket.cancel()
            await server.process.stop()
        }
    }

    @Test("Without an SMTP server the reset mail, link included, is written to the log", arguments: [TestBackend.sqlite])
    func mailIsLoggedWithoutSMTP(backend: TestBackend) async throws {
        try await backend.withLocation { location in
            let logs = try Repository.temporaryDirectory("parley-live")
            defer { try? FileManager.default.removeItem(atPath: logs) }
            let server = try await ParleyProcess.start(arguments: location.arguments + ["--public-url", "https://chat.example.org"], logDirectory: logs)
            try await server.waitUntilReady()
            #expect(try await server.request("POST", "/api/v1/auth/register", json: #"{"username":"bob","email":"bob@example.com","password":"bob's password"}"#).status == 201)
            #expect(try await server.request("POST", "/api/v1/auth/password-reset", json: #"{"email":"bob@example.com"}"#).status == 202)
            try await eventually("the mail in the log") {
                server.process.output().contains("https://chat.example.org/reset-password?token=pr_") ? true : nil
            }
            // The log says what happened: written there, not sent.
            try await eventually("the mailer's own line") {
                server.process.output().contains("Password-reset mail written to the log") ? true : nil
            }
            #expect(server.process.output().contains("written here instead of sent (no --smtp-url)"))
            #expect(!server.process.output().contains("Password-reset mail sent"))
            // The link works, and using it is a security event (without the token).
            let output = server.process.output()
            let token = try #require(output.range(of: "token=pr_").map { String(output[$0.lowerBound...].dropFirst(6).prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) })
            let reset = try await server.request("POST", "/api/v1/auth/password-reset/confirm", json: #"{"token":"\#(token)","newPassword":"bob's new password"}"#)
            #expect(reset.status == 204, "\(reset.body)")
            try await eventually("the reset logged as a security event") {
                server.process.output().contains("security.event=password_reset") ? true : nil
            }
            #expect(!server.process.output().dropFirst(output.count).contains(token), "the token appears once, in the mail itself")
            await server.process.stop()
        }
    }

    @Test("parley migrate applies the schema once", arguments: TestBackend.all)
    func migrateCommand(backend: TestBackend) async throws {
        try await backend.withLocation { location in
            let first = try await run([ParleyProcess.executable, "migrate"] + location.arguments)
            #expect(first.status == 0, "\(first.output)")
            #expect(first.output.contains("Applied migrations 1"))
            let second = try await run([ParleyProcess.executable, "migrate"] + location.arguments)
            #expect(second.output.contains("up to date"))
        }
    }

    @Test("parley api refuses to start without PostgreSQL")
    func apiNeedsPostgres() async throws {
        let result = try await run([ParleyProcess.executable, "api"], environment: ["DATABASE_URL": ""])
        #expect(result.status != 0)
        #expect(result.output.contains("needs PostgreSQL"))
    }

    @Test(
        "Two nodes starting at once on one PostgreSQL share one schema and one signing key",
        .enabled(if: TestBackend.postgresURL != nil, "needs TEST_DATABASE_URL")
    )
    func twoNodesStartTogether() async throws {
        try await TestBackend.postgres.withLocation { location in
            let logs = try Repository.temporaryDirectory("parley-live")
            defer { try? FileManager.default.removeItem(atPath: logs) }
            async let startFirst = ParleyProcess.start("api", arguments: location.arguments, logDirectory: logs)
            async let startSecond = ParleyProcess.start("serve", arguments: location.arguments, logDirectory: logs)
            let (first, second) = try await (startFirst, startSecond)
            try await first.waitUntilReady()
            try await second.waitUntilReady()

            let keys = try await [first.request("GET", "/.well-known/jwks.json").body, second.request("GET", "/.well-known/jwks.json").body]
            #expect(keys[0] == keys[1])
            #expect(keys[0].components(separatedBy: "\"kid\"").count == 2, "exactly one key")

            let registered = try await first.request("POST", "/api/v1/auth/register", json: #"{"username":"carol","email":"carol@example.com","password":"carol's password"}"#)
            let token = try JSONDecoder().decode([String: JSONValue].self, from: Data(registered.body.utf8))["accessToken"]?.string ?? ""
            #expect(try await second.request("GET", "/api/v1/me", headers: ["Authorization": "Bearer \(token)"]).status == 200)

            await first.process.stop()
            await second.process.stop()
            guard case .postgres(let url) = location else { return }
            let database = try PostgresDatabase(url: url, logger: TestBackend.logger)
            let versions = try await database.running { try await Migrator.appliedVersions(database) }
            #expect(versions == Array(1...Migrator.latestVersion))
        }
    }
}

extension TestBackend.Location {
    /// The command-line arguments that point `parley` here.
    var arguments: [String] {
        switch self {
        case .sqlite(let directory): ["--data-dir", directory]
        case .postgres(let url): ["--database-url", url]
        }
    }
}

/// Just enough JSON to read a response.
enum JSONValue: Decodable {
    case string(String)
    case other

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self = (try? container.decode(String.self)).map(JSONValue.string) ?? .other
    }

    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }
}
