package import Foundation

/// An image attached to a message: the `Attachment` schema. Its URLs are signed and expire.
package struct Attachment: Codable, Hashable, Sendable {
    package var id: UUID
    package var contentType: String
    package var width: Int
    package var height: Int
    package var size: Int
    package var url: String
    package var thumbnailURL: String

    package init(id: UUID, contentType: String, width: Int, height: Int, size: Int, url: String, thumbnailURL: String) {
        self.id = id
        self.contentType = contentType
        self.width = width
        self.height = height
        self.size = size
        self.url = url
        self.thumbnailURL = thumbnailURL
    }

    enum CodingKeys: String, CodingKey {
        case id, contentType, width, height, size, url
        case thumbnailURL = "thumbnailUrl"
    }
}

/// An uploaded image, as its uploader sees it: the `Upload` schema.
package struct Upload: Codable, Hashable, Sendable {
    package var id: UUID
    package var contentType: String
    package var size: Int
    package var width: Int
    package var height: Int
    package var url: String
    package var thumbnailURL: String
    package var createdAt: Date

    package init(id: UUID, contentType: String, size: Int, width: Int, height: Int, url: String, thumbnailURL: String, createdAt: Date) {
        self.id = id
        self.contentType = contentType
        self.size = size
        self.width = width
        self.height = height
        self.url = url
        self.thumbnailURL = thumbnailURL
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, contentType, size, width, height, url, createdAt
        case thumbnailURL = "thumbnailUrl"
    }
}
