import Foundation
import TestSupport
import Testing
import App
import Realtime

@Suite("Realtime subscriptions, typing and presence", .timeLimit(.minutes(2)))
struct SubscriptionTests {
    @Test("A member added mid-connection receives the conversation from the event that added them; removed, nothing after", arguments: TestBackend.all)
    func membershipChanges(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let http = running.http
            let alice = try await http.register("alice")
            let bob = try await http.register("bob")
            let group = try await http.group(alice, members: [])
            try await http.send("before bob", to: group, as: alice)
            let client = try await http.connect(bob)

            #expect(try await http.request("POST", "/api/v1/groups/\(group)/members", json: ["userIds": [bob.id]], token: alice.accessToken).status == 200)
            let added = try await client.next("member.added")
            #expect(added.stream == "conversation:\(group)")
            try await client.next("conversation.joined")
            try await http.send("welcome", to: group, as: alice)
            try await client.next(where: { $0.data["body"] as? String == "welcome" })
            #expect(!client.events.contains { $0.data["body"] as? String == "before bob" })

            #expect(try await http.request("DELETE", "/api/v1/groups/\(group)/members/\(bob.id)", token: alice.accessToken).status == 204)
            try await client.next("member.removed")
            try await http.send("after bob", to: group, as: alice)
            // A marker in Bob's own stream shows that everything before it has been delivered.
            _ = try await http.request("PATCH", "/api/v1/me", json: ["bio": "marker"], token: bob.accessToken)
            try await client.next("user.updated")
            #expect(!client.events.contains { $0.data["body"] as? String == "after bob" })
            let groupEvents = client.events.filter { $0.stream == "conversation:\(group)" }.compactMap(\.type)
            #expect(groupEvents.last == "member.removed")
            client.cancel()
        }
    }

    @Test("Deleting a group ends its stream for every member", arguments: TestBackend.all)
    func groupDeletion(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let alice = try await running.http.register("alice")
            let bob = try await running.http.register("bob")
            let group = try await running.http.group(alice, members: [bob])
            let client = try await running.http.connect(bob)
            #expect(try await running.http.request("DELETE", "/api/v1/groups/\(group)", token: alice.accessToken).status == 204)
            try await client.next("conversation.deleted")
            let left = try await client.next("conversation.left")
            #expect(left.data["reason"] as? String == "deleted")
            client.cancel()
        }
    }

    @Test("Typing reaches the other members, not the typist, at most once per interval", arguments: TestBackend.all)
    func typing(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let alice = try await running.http.register("alice")
            let bob = try await running.http.register("bob")
            let carol = try await running.http.register("carol")
            let group = try await running.http.group(alice, members: [bob])
            let typist = try await running.http.connect(alice)
            let reader = try await running.http.connect(bob)
            let outsider = try await running.http.connect(carol)
            typist.send(["type": "typing", "id": "t1", "conversationId": group])
            typist.send(["type": "typing", "id": "t2", "conversationId": group])
            let notice = try await reader.next("typing")
            #expect(notice.object["userId"] as? String == alice.id)
            #expect(notice.object["conversationId"] as? String == group)
            #expect(notice.object["expiresIn"] as? Double == 6)
            try await typist.next(where: { $0.id == "t2" })
            try await Task.sleep(for: .milliseconds(300))
            #expect(reader.frames.filter { $0.type == "typing" }.count == 1)
            #expect(!typist.frames.contains { $0.type == "typing" })
            #expect(!outsider.frames.contains { $0.type == "typing" })
            outsider.send(["type": "typing", "id": "x", "conversationId": group])
            #expect(try await outsider.next(where: { $0.id == "x" }).code == "not_found")
            for client in [typist, reader, outsider] { client.cancel() }
        }
    }

    @Test("Presence: co-members see online, away and, after the grace period, offline with lastSeenAt", arguments: TestBackend.all)
    func presence(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let alice = try await running.http.register("alice")
            let bob = try await running.http.register("bob")
            _ = try await running.http.group(alice, members: [bob])
            let watcher = try await running.http.connect(alice)
            let bobClient = try await running.http.connect(bob)
            let online = try await watcher.next(where: { $0.type == "presence.changed" && $0.object["userId"] as? String == bob.id })
            #expect(online.object["status"] as? String == "online")

            bobClient.send(["type": "presence", "id": "p", "status": "away"])
            try await bobClient.next("ack")
            try await watcher.next(where: { $0.type == "presence.changed" && $0.object["status"] as? String == "away" })

            bobClient.close()
            let offline = try await watcher.next(where: { $0.type == "presence.changed" && $0.object["status"] as? String == "offline" })
            #expect(offline.object["lastSeenAt"] is String)
            let profile = try await running.http.request("GET", "/api/v1/users/\(bob.id)", token: alice.accessToken)
            #expect(profile.json["lastSeenAt"] is String)
            watcher.cancel()
        }
    }

    @Test("A reconnect within the grace period is not a departure", arguments: TestBackend.all)
    func flapping(backend: TestBackend) async throws {
        try await withRealtime(backend, configure: { $0.realtime.presenceGrace = 2 }) { running in
            let alice = try await running.http.register("alice")
            let bob = try await running.http.register("bob")
            _ = try await running.http.group(alice, members: [bob])
            let watcher = try await running.http.connect(alice)
            let first = try await running.http.connect(bob)
            try await watcher.next("presence.changed")
            first.close()
            _ = try await first.waitForClose()
            let second = try await running.http.connect(bob)
            try await Task.sleep(for: .seconds(3))
            #expect(!watcher.frames.contains { $0.object["status"] as? String == "offline" })
            second.cancel()
            watcher.cancel()
        }
    }
}
