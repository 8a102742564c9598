import Foundation
import Models

/// Reading ids and paging parameters the generated code leaves as plain strings and integers.
enum Parameters {
    /// An id in the path: junk is as absent as an unknown id, so 404.
    static func pathID(_ raw: String, _ what: String) throws(Problem) -> UUID {
        guard let id = UUID(text: raw) else { throw Problem.notFound("No such \(what).") }
        return id
    }

    /// An id in a body or query: junk is a bad field, so 400.
    static func id(_ raw: String, field: String) throws(Problem) -> UUID {
        guard let id = UUID(text: raw) else { throw Problem.invalidField(field, .invalidFormat, "Not an id.") }
        return id
    }

    /// Ids in a body, each checked; `field[i]` names a bad one.
    static func ids(_ raw: [String], field: String) throws(Problem) -> [UUID] {
        var ids: [UUID] = []
        var errors: [FieldError] = []
        for (index, value) in raw.enumerated() {
            if let id = UUID(text: value) {
                ids.append(id)
            } else {
                errors.append(FieldError(field: "\(field)[\(index)]", code: .invalidFormat, detail: "Not an id."))
            }
        }
        guard errors.isEmpty else { throw Problem.validationFailed(errors) }
        return ids
    }

    /// A page size: `fallback` when absent; 400 outside 1...`max`.
    static func limit(_ raw: Int?, fallback: Int, max: Int) throws(Problem) -> Int {
        guard let raw else { return fallback }
        guard raw >= 1 else { throw Problem.invalidField("limit", .tooSmall, "At least 1.") }
        guard raw <= max else { throw Problem.invalidField("limit", .tooLarge, "At most \(max).") }
        return raw
    }

    /// A sequence number: 400 when negative.
    static func seq(_ raw: Int64?, field: String) throws(Problem) -> Int64? {
        guard let raw else { return nil }
        guard raw >= 0 else { throw Problem.invalidField(field, .tooSmall, "Sequence numbers are 0 or more.") }
        return raw
    }
}
