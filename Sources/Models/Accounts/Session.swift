package import Foundation

/// A signed-in device: one chain of refresh tokens and the access tokens minted from it.
package struct Session: Sendable, Equatable {
    package var id: UUID
    package var userID: UUID
    package var deviceName: String?
    package var userAgent: String?
    package var createdAt: Date
    package var lastUsedAt: Date

    package init(id: UUID, userID: UUID, deviceName: String?, userAgent: String?, createdAt: Date, lastUsedAt: Date) {
        self.id = id
        self.userID = userID
        self.deviceName = deviceName
        self.userAgent = userAgent
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
    }
}
