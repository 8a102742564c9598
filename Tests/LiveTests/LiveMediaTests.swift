import Foundation
import TestSupport
import Testing

/// Images across real `parley` processes on one PostgreSQL: what one node stores, every node serves.
@Suite("Images across processes", .serialized, .timeLimit(.minutes(2)))
struct LiveMediaTests {
    @Test(
        "Uploaded through one node, sent over the other's WebSocket, served by either",
        .enabled(if: TestBackend.postgresURL != nil, "needs TEST_DATABASE_URL")
    )
    func acrossNodes() async throws {
        try await TestBackend.postgres.withLocation { location in
            try await ParleyProcess.withNodes(["serve", "serve"], location: location) { nodes, _ in
                let one = HTTP(port: nodes[0].port)
                let two = HTTP(port: nodes[1].port)
                let alice = try await one.register("alice")
                let bob = try await one.register("bob")
                let group = try await one.group(alice, members: [bob])

                let photo = try Data(contentsOf: URL(fileURLWithPath: Repository.fixture("images/photo-exif-gps.jpg")))
                let uploaded = try await one.request(
                    "POST", "/api/v1/uploads", data: photo,
                    headers: ["Authorization": "Bearer \(alice.accessToken)", "Content-Type": "image/jpeg"]
                )
                #expect(uploaded.status == 201)
                let uploadID = try #require(uploaded.json["id"] as? String)

                // Sent over the second node's socket; Bob hears it on the first.
                let bobOnOne = try await one.connect(bob)
                let aliceOnTwo = try await two.connect(alice)
                aliceOnTwo.send([
                    "type": "message.send", "id": "photo-1", "conversationId": group, "clientMessageId": "photo-1",
                    "attachments": [uploadID],
                ])
                let sent = try await aliceOnTwo.next("message.sent")
                #expect(sent.id == "photo-1")
                let created = try await bobOnOne.next("message.created")
                let attachments = try #require(created.data["attachments"] as? [[String: Any]])
                #expect(attachments.count == 1 && attachments.first?["id"] as? String == uploadID)
                let thumbnailURL = try #require(attachments.first?["thumbnailUrl"] as? String)
                let url = try #require(attachments.first?["url"] as? String)

                // Either node serves either size: the bytes live in the shared database.
                let viaTwo = try await two.request("GET", thumbnailURL, body: nil)
                #expect(viaTwo.status == 200 && viaTwo.headers["content-type"] == "image/webp")
                let viaOne = try await one.request("GET", thumbnailURL, body: nil)
                #expect(viaOne.data == viaTwo.data && !viaOne.data.isEmpty)
                let original = try await two.request("GET", url, body: nil)
                #expect(original.status == 200 && original.headers["content-type"] == "image/jpeg")
                #expect(original.data.starts(with: [0xFF, 0xD8, 0xFF]) && original.data != photo, "re-encoded, without its metadata")
                // A link one node signed, tampered with, fails on the other.
                let tampered = url.replacingOccurrences(of: "sig=", with: "sig=x")
                #expect(try await one.request("GET", tampered, body: nil).status == 403)
                bobOnOne.cancel()
                aliceOnTwo.cancel()
            }
        }
    }
}
