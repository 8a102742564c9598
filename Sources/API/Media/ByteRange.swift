import Foundation
import Models

/// One byte range of a `Range` header (RFC 9110 §14), resolved against a length.
struct ByteRange: Equatable {
    /// The first byte, counting from 0.
    var first: Int
    /// The last byte, included.
    var last: Int

    var count: Int { last - first + 1 }

    /// The range a `Range` header asks of `length` bytes: nil to serve them all (no header, another
    /// unit, several ranges, or a header that does not parse — which RFC 9110 lets a server ignore),
    /// or 416 when the one range lies wholly outside.
    static func requested(_ header: String?, length: Int) throws(Problem) -> ByteRange? {
        guard let header, header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let spec = header.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let range: ByteRange
        switch (Int(parts[0]), Int(parts[1])) {
        case (let first?, let last?) where first <= last && first >= 0:
            range = ByteRange(first: first, last: min(last, length - 1))
        case (let first?, nil) where parts[1].isEmpty && first >= 0:
            range = ByteRange(first: first, last: length - 1)
        case (nil, let suffix?) where parts[0].isEmpty && suffix > 0:
            range = ByteRange(first: max(0, length - suffix), last: length - 1)
        default:
            return nil
        }
        guard range.first < length else {
            throw Problem(
                code: .rangeNotSatisfiable,
                title: "Range not satisfiable",
                detail: "The image has \(length) bytes.",
                completeLength: length
            )
        }
        return range
    }

    /// Its `Content-Range` value.
    func contentRange(of length: Int) -> String { "bytes \(first)-\(last)/\(length)" }
}
