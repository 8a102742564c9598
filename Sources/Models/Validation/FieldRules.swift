import Foundation

/// The rules for each user-supplied field. Each returns the normalized value or why it was refused.
package enum FieldRules {
    /// 3-32 characters of a-z, 0-9, `_` and `.`; upper case is folded to lower case.
    package static func username(_ raw: String) -> Result<String, FieldRuleFailure> {
        let value = raw.lowercased()
        guard value.count >= 3 else { return .failure(.init(.tooShort, "At least 3 characters.")) }
        guard value.count <= 32 else { return .failure(.init(.tooLong, "At most 32 characters.")) }
        let allowed = value.unicodeScalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "."
        }
        guard allowed else { return .failure(.init(.invalidCharacters, "Use only a-z, 0-9, '_' and '.'.")) }
        return .success(value)
    }

    /// A plausible address of at most 254 characters: `local@domain.tld`, no spaces or control characters.
    package static func email(_ raw: String) -> Result<String, FieldRuleFailure> {
        let value = raw.trimmingWhitespace()
        guard !value.isEmpty else { return .failure(.init(.required, "An email address is required.")) }
        guard value.utf8.count <= 254 else { return .failure(.init(.tooLong, "At most 254 characters.")) }
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        let wellFormed =
            parts.count == 2
            && !parts[0].isEmpty && parts[0].utf8.count <= 64
            && parts[1].contains(".") && !parts[1].hasPrefix(".") && !parts[1].hasSuffix(".")
            && !parts[1].contains("..")
            && !value.unicodeScalars.contains { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }
        guard wellFormed else { return .failure(.init(.invalidFormat, "Not an email address.")) }
        return .success(value)
    }

    /// 8-128 characters (grapheme clusters), kept exactly as typed.
    package static func newPassword(_ raw: String) -> Result<String, FieldRuleFailure> {
        guard raw.count >= 8 else { return .failure(.init(.tooShort, "At least 8 characters.")) }
        guard raw.count <= 128 else { return .failure(.init(.tooLong, "At most 128 characters.")) }
        return .success(raw)
    }

    /// 1-64 characters after trimming, no control characters.
    package static func displayName(_ raw: String) -> Result<String, FieldRuleFailure> {
        text(raw, max: 64, allowEmpty: false)
    }

    /// Up to 500 characters after trimming; line breaks allowed.
    package static func bio(_ raw: String) -> Result<String, FieldRuleFailure> {
        text(raw, max: 500, allowEmpty: true, allowNewlines: true)
    }

    /// Up to 64 characters after trimming; an empty name counts as none.
    package static func deviceName(_ raw: String) -> Result<String, FieldRuleFailure> {
        text(raw, max: 64, allowEmpty: true)
    }

    /// Trimmed free text with a length limit and no control characters (but line breaks, where allowed).
    package static func text(
        _ raw: String,
        max: Int,
        allowEmpty: Bool,
        allowNewlines: Bool = false
    ) -> Result<String, FieldRuleFailure> {
        let value = raw.trimmingWhitespace()
        if value.isEmpty && !allowEmpty { return .failure(.init(.required, "Must not be empty.")) }
        guard value.count <= max else { return .failure(.init(.tooLong, "At most \(max) characters.")) }
        let hasControl = value.unicodeScalars.contains { scalar in
            let isLineBreak = scalar == "\n" || scalar == "\r"
            return scalar.properties.generalCategory == .control && !(allowNewlines && isLineBreak)
        }
        guard !hasControl else { return .failure(.init(.invalidCharacters, "Control characters are not allowed.")) }
        return .success(value)
    }
}

extension String {
    /// The string without leading and trailing white space and line breaks.
    package func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}

// MARK: - Conversations and messages

extension FieldRules {
    /// 1-4,000 characters after trimming, and at most 32 KiB of UTF-8 (one character may hold any
    /// number of combining marks); line breaks and tabs allowed, other control characters not.
    package static func messageBody(_ raw: String) -> Result<String, FieldRuleFailure> {
        let value = raw.trimmingWhitespace()
        guard !value.isEmpty else { return .failure(.init(.required, "A message needs some text.")) }
        guard value.count <= 4000 else { return .failure(.init(.tooLong, "At most 4000 characters.")) }
        guard value.utf8.count <= 32 * 1024 else { return .failure(.init(.tooLong, "At most 32 KiB of text.")) }
        let forbidden = value.unicodeScalars.contains { scalar in
            (scalar.properties.generalCategory == .control && scalar != "\n" && scalar != "\r" && scalar != "\t")
                || scalar == "\u{E000}" || scalar == "\u{E001}"
        }
        guard !forbidden else { return .failure(.init(.invalidCharacters, "Control characters are not allowed.")) }
        return .success(value)
    }

    /// The sender's idempotency key: 1-64 characters, no control characters.
    package static func clientMessageID(_ raw: String) -> Result<String, FieldRuleFailure> {
        guard !raw.isEmpty else { return .failure(.init(.required, "A client message id is required.")) }
        guard raw.count <= 64 else { return .failure(.init(.tooLong, "At most 64 characters.")) }
        guard !raw.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            return .failure(.init(.invalidCharacters, "Control characters are not allowed."))
        }
        return .success(raw)
    }

    /// A group title: 1-100 characters after trimming.
    package static func groupTitle(_ raw: String) -> Result<String, FieldRuleFailure> {
        text(raw, max: 100, allowEmpty: false)
    }

    /// A group description: up to 1,000 characters; line breaks allowed.
    package static func groupDescription(_ raw: String) -> Result<String, FieldRuleFailure> {
        text(raw, max: 1000, allowEmpty: true, allowNewlines: true)
    }

    /// A contact's nickname: up to 64 characters; empty means none.
    package static func nickname(_ raw: String) -> Result<String, FieldRuleFailure> {
        text(raw, max: 64, allowEmpty: true)
    }

    /// A search query: 1-200 characters after trimming.
    package static func searchQuery(_ raw: String) -> Result<String, FieldRuleFailure> {
        text(raw, max: 200, allowEmpty: false)
    }

    /// Exactly one emoji: a single grapheme that is drawn as an emoji (flags, skin tones and
    /// ZWJ sequences included; a bare digit or `#` is not).
    package static func emoji(_ raw: String) -> Result<String, FieldRuleFailure> {
        guard raw.count == 1, raw.utf8.count <= 64, let scalars = raw.first?.unicodeScalars, let first = scalars.first else {
            return .failure(.init(.invalidFormat, "Exactly one emoji."))
        }
        let drawnAsEmoji =
            scalars.contains { $0.properties.isEmojiPresentation }
            || (first.properties.isEmoji && scalars.contains { $0 == "\u{FE0F}" })
        guard drawnAsEmoji else { return .failure(.init(.invalidFormat, "Exactly one emoji.")) }
        return .success(raw)
    }

    /// A colour as `#rrggbb`; returned in lower case.
    package static func color(_ raw: String) -> Result<String, FieldRuleFailure> {
        let hex = raw.dropFirst()
        guard raw.first == "#", hex.count == 6, hex.allSatisfy(\.isHexDigit) else {
            return .failure(.init(.invalidFormat, "A colour as #rrggbb."))
        }
        return .success(raw.lowercased())
    }

    /// A text size factor from 0.8 to 2.0.
    package static func fontScale(_ raw: Double) -> Result<Double, FieldRuleFailure> {
        guard raw.isFinite, raw >= 0.8 else { return .failure(.init(.tooSmall, "At least 0.8.")) }
        guard raw <= 2.0 else { return .failure(.init(.tooLarge, "At most 2.0.")) }
        return .success(raw)
    }

    /// A time of day as `HH:MM`, 24-hour.
    package static func clockTime(_ raw: String) -> Result<String, FieldRuleFailure> {
        let parts = raw.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) }),
            let hours = Int(parts[0]), let minutes = Int(parts[1]), (0..<24).contains(hours), (0..<60).contains(minutes)
        else { return .failure(.init(.invalidFormat, "A time of day as HH:MM, 00:00 to 23:59.")) }
        return .success(raw)
    }

    /// An IANA time zone name this server knows, such as `Europe/Paris`.
    package static func timeZone(_ raw: String) -> Result<String, FieldRuleFailure> {
        guard raw.count <= 64, TimeZone.knownTimeZoneIdentifiers.contains(raw) || raw == "UTC" else {
            return .failure(.init(.invalidFormat, "An IANA time zone name, such as Europe/Paris."))
        }
        return .success(raw)
    }
}
