/// The `@username` mentions of a message body.
///
/// A mention is `@` followed by a username (letters, digits, `_` and `.`, as registration allows),
/// at a word boundary: at the start or after a character that cannot be part of an address or a
/// name (so `alice@example.com` mentions nobody), and not followed by more name characters. Matching
/// is case-insensitive; a trailing `.` ends the sentence, not the name. Nothing inside a code span
/// (`` `…` ``) or a fenced block (```` ``` ````) is a mention. `@all` names every member; whether it
/// counts is the store's rule (admins and owners of groups only).
package enum Mentions {
    /// The name that stands for every member of a group.
    package static let everyone = "all"

    /// The lower-cased names mentioned in `body`, each once, in the order they first appear.
    package static func names(in body: String) -> [String] {
        var names: [String] = []
        var seen: Set<String> = []
        let characters = Array(body)
        var index = 0
        var inCode = false
        while index < characters.count {
            let character = characters[index]
            if character == "`" {
                // A run of backticks opens or closes code; inside it nothing counts.
                while index < characters.count, characters[index] == "`" { index += 1 }
                inCode.toggle()
                continue
            }
            defer { index += 1 }
            guard !inCode, character == "@" else { continue }
            if index > 0, isNameCharacter(characters[index - 1]) || characters[index - 1] == "@" { continue }
            var end = index + 1
            while end < characters.count, isNameCharacter(characters[end]) { end += 1 }
            var name = String(characters[(index + 1)..<end]).lowercased()
            while name.hasSuffix(".") { name.removeLast() }
            // Letters beyond ASCII belong to the word (no `@andr` out of `@andrés`) but to no username.
            guard (3...32).contains(name.count), name.allSatisfy(\.isASCII) else { continue }
            if seen.insert(name).inserted { names.append(name) }
        }
        return names
    }

    private static func isNameCharacter(_ character: Character) -> Bool {
        guard character.isASCII else { return character.isLetter || character.isNumber }
        return character.isLetter || character.isNumber || character == "_" || character == "."
    }
}
