import Auth
import Foundation
import Models

// The one place where Models types become the generated `Components.Schemas` types of openapi.yaml.

extension Components.Schemas.User {
    init(_ user: Models.User) {
        self.init(
            id: user.id.lowercased,
            username: user.username,
            displayName: user.displayName,
            email: user.email,
            bio: user.bio.isEmpty ? nil : user.bio,
            avatarUrl: user.avatarURL,
            createdAt: user.createdAt
        )
    }
}

extension Components.Schemas.Session {
    init(_ session: Models.Session, current: Bool) {
        self.init(
            id: session.id.lowercased,
            deviceName: session.deviceName,
            userAgent: session.userAgent,
            createdAt: session.createdAt,
            lastUsedAt: session.lastUsedAt,
            current: current
        )
    }
}

extension Components.Schemas.AuthSession {
    init(_ user: Models.User, session: Models.Session, accessToken: String, refreshToken: String, expiresIn: TimeInterval) {
        self.init(
            user: .init(user),
            accessToken: accessToken,
            refreshToken: refreshToken,
            expiresIn: Int(expiresIn),
            sessionId: session.id.lowercased
        )
    }
}

extension Components.Schemas.PublicUser {
    init(_ user: PublicUser) {
        self.init(
            id: user.id.lowercased,
            username: user.username,
            displayName: user.displayName,
            bio: user.bio.isEmpty ? nil : user.bio,
            avatarUrl: user.avatarURL,
            createdAt: user.createdAt,
            lastSeenAt: user.lastSeenAt
        )
    }
}

extension Components.Schemas.Contact {
    init(_ contact: Contact) {
        self.init(user: .init(contact.user), nickname: contact.nickname, addedAt: contact.addedAt)
    }
}

extension Components.Schemas.Block {
    init(_ block: Block) {
        self.init(user: .init(block.user), blockedAt: block.blockedAt)
    }
}

extension Components.Schemas.Role {
    init(_ role: MemberRole) {
        switch role {
        case .member: self = .member
        case .admin: self = .admin
        case .owner: self = .owner
        }
    }
}

extension MemberRole {
    init(_ role: Components.Schemas.Role) {
        switch role {
        case .member: self = .member
        case .admin: self = .admin
        case .owner: self = .owner
        }
    }
}

extension Components.Schemas.Conversation {
    init(_ view: ConversationView) {
        self.init(
            id: view.id.lowercased,
            kind: view.kind == .direct ? .direct : .group,
            title: view.title,
            description: view.description.isEmpty ? nil : view.description,
            iconUrl: view.iconURL,
            createdAt: view.createdAt,
            lastSeq: view.lastSeq,
            lastMessage: view.lastMessage.map(Components.Schemas.Message.init),
            unreadCount: view.unreadCount,
            myRole: .init(view.myRole),
            memberCount: view.memberCount
        )
    }
}

extension Components.Schemas.Member {
    init(_ member: Member) {
        self.init(user: .init(member.user), role: .init(member.role), joinedAt: member.joinedAt, lastReadSeq: member.lastReadSeq)
    }
}

extension Components.Schemas.Message {
    init(_ message: Message) {
        self.init(
            id: message.id.lowercased,
            conversationId: message.conversationID.lowercased,
            seq: message.seq,
            senderId: message.senderID.lowercased,
            body: message.body,
            clientMessageId: message.clientMessageID,
            replyToId: message.replyToID?.lowercased,
            createdAt: message.createdAt,
            editedAt: message.editedAt,
            deleted: message.isDeleted,
            reactions: message.reactions.map { .init(emoji: $0.emoji, count: $0.count, me: $0.me) }
        )
    }
}

extension Components.Schemas.SearchHit {
    init(_ hit: SearchHit) {
        self.init(message: .init(hit.message), snippet: hit.htmlSnippet)
    }
}

extension Components.Schemas.Event {
    /// A logged event, read through the spec's own `Event` schema: its JSON `data` was written by
    /// the Store from the payload types of Models, so this is where a drift between the two would show.
    init(_ event: Models.Event) throws {
        var json = Data(#"{"stream":"#.utf8)
        json += try JSONEncoder().encode(event.stream.rawValue)
        json += Data(#","seq":\#(event.seq),"type":"#.utf8)
        json += try JSONEncoder().encode(event.type.rawValue)
        json += Data(#","ts":"#.utf8)
        json += try EventCoding.encoder.encode(event.ts)
        json += Data(#","data":"#.utf8)
        json += event.data
        json += Data("}".utf8)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        self = try decoder.decode(Self.self, from: json)
    }
}
