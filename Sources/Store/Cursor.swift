import Foundation
import Models

/// The opaque `cursor` of a keyset-paginated list: the sort key of the last item returned,
/// base64url-encoded. Clients pass it back unchanged; anything else is refused as invalid.
struct Cursor {
    var parts: [String]

    init(_ parts: String...) {
        self.parts = parts
    }

    /// Reads a cursor that must have `count` parts; nil input is the first page.
    init?(decoding text: String?, count: Int) throws(Problem) {
        guard let text else { return nil }
        guard let data = Data(base64URLEncoded: text),
            let parts = try? JSONDecoder().decode([String].self, from: data), parts.count == count
        else { throw Problem.invalidField("cursor", .invalidFormat, "Not a cursor from this list.") }
        self.parts = parts
    }

    var encoded: String {
        let data = (try? JSONEncoder().encode(parts)) ?? Data()
        return data.base64URLEncodedString()
    }

    func int64(_ index: Int) throws(Problem) -> Int64 {
        guard let value = Int64(parts[index]) else { throw Problem.invalidField("cursor", .invalidFormat, "Not a cursor from this list.") }
        return value
    }

    func uuid(_ index: Int) throws(Problem) -> UUID {
        guard let value = UUID(text: parts[index]) else {
            throw Problem.invalidField("cursor", .invalidFormat, "Not a cursor from this list.")
        }
        return value
    }
}
