package import Foundation

/// The account rules a server enforces beyond validation: whether sending waits for a verified
/// address, how often a username may change, how long a deleted account's name stays reserved.
package struct AccountPolicy: Sendable {
    /// Whether users send messages only once their e-mail address is verified.
    package var requiresVerifiedEmail: Bool
    /// How long after changing their username a user must wait to change it again (0: no wait).
    package var usernameChangeInterval: TimeInterval
    /// How long the username and address of a deleted account stay reserved; then anyone may take them.
    package var deletedNameGrace: TimeInterval

    package init(
        requiresVerifiedEmail: Bool = false,
        usernameChangeInterval: TimeInterval = 30 * 24 * 3600,
        deletedNameGrace: TimeInterval = 30 * 24 * 3600
    ) {
        self.requiresVerifiedEmail = requiresVerifiedEmail
        self.usernameChangeInterval = usernameChangeInterval
        self.deletedNameGrace = deletedNameGrace
    }
}
