/// Direct (two people, one conversation per pair) or group: the `ConversationKind` schema.
package enum ConversationKind: String, Codable, Hashable, Sendable {
    case direct
    case group
}

/// A member's standing in a conversation, ordered: a member < an admin < the owner. The `Role` schema.
package enum MemberRole: String, Codable, Hashable, Sendable, Comparable {
    case member
    case admin
    case owner

    private var rank: Int {
        switch self {
        case .member: 0
        case .admin: 1
        case .owner: 2
        }
    }

    package static func < (lhs: MemberRole, rhs: MemberRole) -> Bool { lhs.rank < rhs.rank }
}
