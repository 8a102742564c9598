/// Why a field was rejected.
package struct FieldErrorCode: RawRepresentable, Hashable, Sendable {
    package let rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package init(_ rawValue: String) { self.rawValue = rawValue }

    package static let required = FieldErrorCode("required")
    package static let tooShort = FieldErrorCode("too_short")
    package static let tooLong = FieldErrorCode("too_long")
    package static let tooSmall = FieldErrorCode("too_small")
    package static let tooLarge = FieldErrorCode("too_large")
    package static let invalidFormat = FieldErrorCode("invalid_format")
    package static let invalidType = FieldErrorCode("invalid_type")
    package static let notFound = FieldErrorCode("not_found")
    package static let invalidCharacters = FieldErrorCode("invalid_characters")
    package static let notAllowed = FieldErrorCode("not_allowed")
    package static let duplicate = FieldErrorCode("duplicate")
}

/// One rejected field of a request, named as the client sent it.
package struct FieldError: Sendable, Equatable {
    package var field: String
    package var code: FieldErrorCode
    package var detail: String

    package init(field: String, code: FieldErrorCode, detail: String) {
        self.field = field
        self.code = code
        self.detail = detail
    }
}

/// Collects every bad field of a request, so one answer lists them all.
///
/// ```swift
/// var validator = Validator()
/// let username = validator.check("username", body.username, FieldRules.username)
/// let bio = validator.check("bio", body.bio, FieldRules.bio)   // optional in, optional out
/// try validator.finish()                                        // throws validation_failed
/// ```
/// `check` returns the normalized value, or the raw one when the rule refused it; `finish` then
/// throws, so a refused value is never used.
package struct Validator: Sendable {
    package private(set) var errors: [FieldError] = []

    package init() {}

    /// Applies `rule` to a field and records its refusal.
    package mutating func check<Value>(
        _ field: String,
        _ raw: Value,
        _ rule: (Value) -> Result<Value, FieldRuleFailure>
    ) -> Value {
        switch rule(raw) {
        case .success(let value):
            return value
        case .failure(let failure):
            errors.append(FieldError(field: field, code: failure.code, detail: failure.detail))
            return raw
        }
    }

    /// Applies `rule` to an optional field; an absent field passes as absent.
    package mutating func check<Value>(
        _ field: String,
        _ raw: Value?,
        _ rule: (Value) -> Result<Value, FieldRuleFailure>
    ) -> Value? {
        raw.map { check(field, $0, rule) }
    }

    /// Records a refusal that no rule function expresses.
    package mutating func record(_ error: FieldError) {
        errors.append(error)
    }

    /// Throws `validation_failed` listing every refused field.
    package func finish() throws(Problem) {
        if !errors.isEmpty { throw Problem.validationFailed(errors) }
    }
}

/// The reason one field rule rejected a value.
package struct FieldRuleFailure: Error, Sendable, Equatable {
    package var code: FieldErrorCode
    package var detail: String

    package init(_ code: FieldErrorCode, _ detail: String) {
        self.code = code
        self.detail = detail
    }
}
