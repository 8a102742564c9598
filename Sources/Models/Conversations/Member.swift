package import Foundation

/// One user's place in one conversation, as authorization reads it.
package struct Membership: Sendable, Equatable {
    package var conversationID: UUID
    package var kind: ConversationKind
    package var userID: UUID
    package var role: MemberRole
    package var joinedAt: Date
    package var lastReadSeq: Int64

    package init(conversationID: UUID, kind: ConversationKind, userID: UUID, role: MemberRole, joinedAt: Date, lastReadSeq: Int64) {
        self.conversationID = conversationID
        self.kind = kind
        self.userID = userID
        self.role = role
        self.joinedAt = joinedAt
        self.lastReadSeq = lastReadSeq
    }
}

/// A member as the member list shows them: the `Member` schema.
package struct Member: Codable, Hashable, Sendable {
    package var user: PublicUser
    package var role: MemberRole
    package var joinedAt: Date
    package var lastReadSeq: Int64

    package init(user: PublicUser, role: MemberRole, joinedAt: Date, lastReadSeq: Int64) {
        self.user = user
        self.role = role
        self.joinedAt = joinedAt
        self.lastReadSeq = lastReadSeq
    }
}
