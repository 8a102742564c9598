import Foundation
import TestSupport
import Testing

@Suite("Notifications over real sockets", .timeLimit(.minutes(1)))
struct NotificationDeliveryTests {
    @Test("Every connection of the user gets each notification.created once, and the reads and removals after it", arguments: TestBackend.all)
    func everyConnectionOnce(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let http = running.http
            let alice = try await http.register("alice")
            let bob = try await http.register("bob")
            let group = try await http.group(alice, members: [bob])
            let tabs = [try await http.connect(bob), try await http.connect(bob)]
            let phone = try await http.connect(bob)

            // Bob was told of being added to the group already: three mentions make four.
            for n in 0..<3 { try await http.send("@bob number \(n)", to: group, as: alice) }
            try await http.send("no mention", to: group, as: alice)
            for connection in tabs + [phone] {
                let last = try await connection.next(where: { $0.type == "notification.created" && ($0.data["unreadCount"] as? Int) == 4 })
                #expect((last.data["notification"] as? [String: Any])?["excerpt"] as? String == "@bob number 2")
            }
            let read = try await http.request("POST", "/api/v1/notifications/read", json: ["before": "2100-01-01T00:00:00Z"], token: bob.accessToken)
            #expect(read.status == 200)
            for connection in tabs + [phone] {
                let event = try await connection.next("notifications.read")
                #expect((event.data["ids"] as? [String])?.count == 4 && event.data["unreadCount"] as? Int == 0)
            }
            // Give any duplicate time to arrive, then count.
            try await Task.sleep(for: .milliseconds(300))
            for connection in tabs + [phone] {
                let created = connection.events.filter { $0.type == "notification.created" }
                let excerpts = created.map { ($0.data["notification"] as? [String: Any])?["excerpt"] as? String ?? "-" }
                #expect(excerpts == ["@bob number 0", "@bob number 1", "@bob number 2"], "each once, in order (the invitation came before the connection)")
            }
            for connection in tabs + [phone] { connection.cancel() }
        }
    }
}
