import Foundation
import App
import Models
import ParleyClient
import HTTPTypes
import HummingbirdTesting
import NIOFoundationEssentialsCompat
import TestSupport
import Testing

/// `POST /me/export`, end to end: queued, built in the background, mailed, downloaded by its link.
@Suite("Exporting one's data", .timeLimit(.minutes(1)))
struct DataExportTests {
    @Test("The archive holds the profile, sessions, contacts, blocks, memberships, every message sent and the uploads; once a day; the link is signed and expires", arguments: TestBackend.all)
    func export(backend: TestBackend) async throws {
        let clock = TestClock()
        try await withMailingApp(backend, clock: clock) { app, sink in
            let (alice, bob, carol) = (try await app.register("alice"), try await app.register("bob"), try await app.register("carol"))
            let (a, b) = (app.api(token: alice.accessToken), app.api(token: bob.accessToken))
            let group = try await a.createGroup(body: .json(.init(title: "Tea", memberIds: [bob.user.id]))).created.body.json.id
            let direct = try await a.openDirectConversation(body: .json(.init(userId: carol.user.id))).created.body.json.id
            let photo = try await MediaAPITests.upload(a, "still.webp", as: "image/webp").created.body.json
            for n in 0..<5 {
                _ = try await a.sendMessage(
                    path: .init(conversationId: n.isMultiple(of: 2) ? group : direct),
                    body: .json(.init(clientMessageId: "\(n)", body: "line \(n)", attachments: n == 0 ? [photo.id] : nil))
                ).created
            }
            _ = try await b.sendMessage(path: .init(conversationId: group), body: .json(.init(clientMessageId: "b", body: "not hers"))).created
            _ = try await a.putContact(path: .init(userId: bob.user.id), body: .json(.init(nickname: "Bobby"))).ok
            _ = try await a.blockUser(path: .init(userId: carol.user.id)).ok
            _ = try await a.getExport().notFound

            let queued = try await a.requestExport().accepted.body.json
            #expect(queued.status == .pending && queued.url == nil)
            let again = try await a.requestExport()
            #expect(try again.tooManyRequests.headers.retryAfter > 23 * 3600)

            // Built in the background, then mailed.
            let mail = try #require(try await sink.waitForMessages(1, subject: "Your Parley data is ready").first)
            #expect(mail.to == ["alice@example.com"])
            let ready = try await a.getExport().ok.body.json
            #expect(ready.id == queued.id && ready.status == .ready)
            let url = try #require(ready.url)
            #expect(mail.text.contains("https://chat.example.com" + url))

            let response = try await app.raw(.get, url)
            #expect(response.status == .ok && response.headers[.contentType] == "application/x-ndjson")
            #expect(response.headers[.contentDisposition]?.hasPrefix("attachment; filename=\"parley-export-") == true)
            let body = Data(buffer: response.body)
            #expect(Int64(body.count) == ready.size)
            let lines = try body.split(separator: 0x0A).map { try #require(try JSONSerialization.jsonObject(with: $0) as? [String: Any]) }
            let byType = Dictionary(grouping: lines) { $0["type"] as? String ?? "?" }.mapValues { $0.compactMap { $0["data"] as? [String: Any] } }
            #expect(byType["profile"]?.first?["email"] as? String == "alice@example.com")
            #expect(byType["session"]?.count == 1)
            #expect(byType["contact"]?.first?["nickname"] as? String == "Bobby")
            #expect(byType["block"]?.count == 1)
            #expect(Set(byType["membership"]?.compactMap { $0["conversationId"] as? String } ?? []) == [group, direct])
            #expect(Set(byType["message"]?.compactMap { $0["body"] as? String } ?? []) == Set((0..<5).map { "line \($0)" }))
            let upload = try #require(byType["upload"]?.first)
            let served = try await app.raw(.get, try #require(photo.url))
            #expect(upload["messageId"] != nil && Data(base64Encoded: upload["data"] as? String ?? "") == Data(buffer: served.body))

            // The link is the proof: a wrong one is refused, and it stops working after 48 hours.
            #expect(try await app.raw(.get, url.replacingOccurrences(of: "sig=", with: "sig=x")).status == .forbidden)
            #expect(try await app.raw(.get, "/api/v1/exports/\(UUID())?exp=9999999999&sig=abc").status == .forbidden)
            clock.advance(by: 48 * 3600 + 1)
            #expect(try await app.raw(.get, url).status == .forbidden)
            let later = try await app.api.login(body: .json(.init(login: "alice", password: "correct horse battery"))).ok.body.json
            let expired = try await app.api(token: later.accessToken).getExport().ok.body.json
            #expect(expired.status == .ready && expired.url == nil)
            // A day after the last one, another.
            _ = try await app.api(token: later.accessToken).requestExport().accepted
        }
    }
}
