import Foundation
import ParleyClient
import TestSupport
import Testing
import App

@Suite("Conversations over REST", .timeLimit(.minutes(1)))
struct ConversationAPITests {
    @Test("A direct conversation: 201 once, then 200 with the same id; titled with the other's name", arguments: TestBackend.all)
    func directConversations(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let alice = try await app.register("alice", displayName: "Alice")
            let bob = try await app.register("bob", displayName: "Bob")
            let created = try await app.api(token: alice.accessToken).openDirectConversation(body: .json(.init(userId: bob.user.id))).created.body.json
            #expect(created.kind == .direct && created.title == "Bob" && created.memberCount == 2 && created.myRole == .member)
            let again = try await app.api(token: bob.accessToken).openDirectConversation(body: .json(.init(userId: alice.user.id))).ok.body.json
            #expect(again.id == created.id && again.title == "Alice")
            _ = try await app.api(token: alice.accessToken).openDirectConversation(body: .json(.init(userId: alice.user.id))).badRequest
            _ = try await app.api(token: alice.accessToken).openDirectConversation(body: .json(.init(userId: "nope"))).badRequest
            _ = try await app.api(token: alice.accessToken).openDirectConversation(body: .json(.init(userId: UUID().uuidString))).notFound
            // Group routes do not apply to direct conversations.
            _ = try await app.api(token: alice.accessToken).updateGroup(path: .init(conversationId: created.id), body: .json(.init(title: "x"))).notFound
        }
    }

    @Test("Creating and administering a group", arguments: TestBackend.all)
    func groups(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let owner = try await app.register("owner")
            let member = try await app.register("member")
            let later = try await app.register("later")
            let api = app.api(token: owner.accessToken)
            let group = try await api.createGroup(body: .json(.init(title: "  Tea  ", description: "Daily", memberIds: [member.user.id]))).created.body.json
            #expect(group.title == "Tea" && group.description == "Daily" && group.myRole == .owner && group.memberCount == 2)

            let invalid = try await api.createGroup(body: .json(.init(title: "", memberIds: ["junk", UUID().uuidString])))
            let fields = try invalid.badRequest.body.applicationProblemJson.errors?.map(\.field)
            #expect(fields == ["title"] || fields == ["memberIds[0]"])
            let unknown = try await api.createGroup(body: .json(.init(title: "X", memberIds: [UUID().uuidString]))).badRequest
            #expect(try unknown.body.applicationProblemJson.errors?.first?.code == "not_found")

            let members = try await api.addMembers(path: .init(conversationId: group.id), body: .json(.init(userIds: [later.user.id, member.user.id]))).ok.body.json
            #expect(members.items.map(\.user.username) == ["owner", "later", "member"])
            #expect(members.items.map(\.role) == [.owner, .member, .member])
            let renamed = try await api.updateGroup(path: .init(conversationId: group.id), body: .json(.init(description: ""))).ok.body.json
            #expect(renamed.title == "Tea" && renamed.description == nil)
            _ = try await api.updateMember(path: .init(conversationId: group.id, userId: member.user.id), body: .json(.init(role: .owner))).ok
            let roles = try await api.listMembers(path: .init(conversationId: group.id)).ok.body.json.items.map { "\($0.user.username):\($0.role.rawValue)" }
            #expect(roles == ["member:owner", "owner:admin", "later:member"])
            _ = try await app.api(token: later.accessToken).removeMember(path: .init(conversationId: group.id, userId: later.user.id)).noContent
            _ = try await app.api(token: later.accessToken).getConversation(path: .init(conversationId: group.id)).notFound
            _ = try await app.api(token: member.accessToken).deleteGroup(path: .init(conversationId: group.id)).noContent
            _ = try await app.api(token: member.accessToken).deleteGroup(path: .init(conversationId: group.id)).notFound
        }
    }

    @Test("A group beyond the member limit is 409 group_full", arguments: TestBackend.all)
    func memberLimit(backend: TestBackend) async throws {
        try await withApp(backend, configure: { $0.maxGroupMembers = 3 }) { app in
            let owner = try await app.register("owner")
            var ids: [String] = []
            for name in ["aaa", "bbb", "ccc"] { ids.append(try await app.register(name).user.id) }
            let full = try await app.api(token: owner.accessToken).createGroup(body: .json(.init(title: "Big", memberIds: ids))).conflict
            #expect(try full.body.applicationProblemJson.code == "group_full")
            let group = try await app.api(token: owner.accessToken).createGroup(body: .json(.init(title: "Ok", memberIds: Array(ids.prefix(2))))).created.body.json
            let more = try await app.api(token: owner.accessToken).addMembers(path: .init(conversationId: group.id), body: .json(.init(userIds: [ids[2]]))).conflict
            #expect(try more.body.applicationProblemJson.code == "group_full")
        }
    }

    @Test("The list: latest activity first, unread counts, last message, cursor", arguments: TestBackend.all)
    func conversationList(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let alice = try await app.register("alice")
            let bob = try await app.register("bob")
            let api = app.api(token: alice.accessToken)
            var ids: [String] = []
            for title in ["One", "Two", "Three"] {
                ids.append(try await api.createGroup(body: .json(.init(title: title, memberIds: [bob.user.id]))).created.body.json.id)
            }
            _ = try await app.api(token: bob.accessToken).sendMessage(path: .init(conversationId: ids[0]), body: .json(.init(clientMessageId: "1", body: "ping"))).created
            let page = try await api.listConversations(query: .init(limit: 2)).ok.body.json
            #expect(page.items.first?.title == "One")
            #expect(page.items.first?.unreadCount == 1)
            #expect(page.items.first?.lastMessage?.body == "ping")
            let rest = try await api.listConversations(query: .init(limit: 2, cursor: page.nextCursor)).ok.body.json
            #expect((page.items + rest.items).map(\.id).sorted() == ids.sorted())
            #expect(rest.nextCursor == nil)
        }
    }
}
