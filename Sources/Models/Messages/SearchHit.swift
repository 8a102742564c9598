/// One full-text match and its highlighted excerpt: the `SearchHit` schema.
package struct SearchHit: Codable, Hashable, Sendable {
    package var message: Message
    /// The excerpt as HTML: its text escaped, its matches wrapped in `<mark>…</mark>`.
    package var snippet: String

    package init(message: Message, snippet: String) {
        self.message = message
        self.snippet = snippet
    }

    /// A hit whose raw excerpt marks matches between `highlightStart` and `highlightEnd`, as the
    /// databases' search functions write it.
    package init(message: Message, markedSnippet: String) {
        self.init(message: message, snippet: Self.html(markedSnippet))
    }

    /// Marks the start of a match in a raw snippet (a private-use character, never in stored text).
    package static let highlightStart: Character = "\u{E000}"
    /// Marks the end of a match in a raw snippet.
    package static let highlightEnd: Character = "\u{E001}"

    private static func html(_ marked: String) -> String {
        var html = ""
        for character in marked {
            switch character {
            case highlightStart: html += "<mark>"
            case highlightEnd: html += "</mark>"
            case "&": html += "&amp;"
            case "<": html += "&lt;"
            case ">": html += "&gt;"
            case "\"": html += "&quot;"
            case "'": html += "&#39;"
            default: html.append(character)
            }
        }
        return html
    }
}
