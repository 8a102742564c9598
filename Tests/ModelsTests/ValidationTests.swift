import Models
import Testing

@Suite("Field rules")
struct ValidationTests {
    @Test("Usernames: 3-32 of a-z 0-9 _ . , folded to lower case", arguments: [
        ("alice", "alice"), ("Alice.B_2", "alice.b_2"), ("abc", "abc"), (String(repeating: "z", count: 32), String(repeating: "z", count: 32)),
    ])
    func validUsernames(input: String, normalized: String) throws {
        #expect(try FieldRules.username(input).get() == normalized)
    }

    @Test("Usernames refused, with the reason", arguments: [
        ("ab", "too_short"), (String(repeating: "z", count: 33), "too_long"), ("al ice", "invalid_characters"),
        ("al-ice", "invalid_characters"), ("ålice", "invalid_characters"), ("", "too_short"),
    ])
    func invalidUsernames(input: String, code: String) {
        guard case .failure(let failure) = FieldRules.username(input) else {
            Issue.record("\(input) was accepted")
            return
        }
        #expect(failure.code.rawValue == code)
    }

    @Test("Emails", arguments: [
        ("a@b.co", true), ("  Alice@Example.com ", true), ("no-at-sign", false), ("a@b", false), ("a@@b.co", false),
        ("a b@c.de", false), ("@b.co", false), ("a@.b.co", false), ("a@b..co", false), ("a@b.co.", false),
    ])
    func emails(input: String, valid: Bool) throws {
        let result = FieldRules.email(input)
        #expect(((try? result.get()) != nil) == valid)
        if valid { #expect(try result.get() == input.trimmingWhitespace()) }
    }

    @Test("Passwords count characters, not bytes, and keep surrounding spaces")
    func passwords() throws {
        #expect(try FieldRules.newPassword(" 1234567").get() == " 1234567")
        #expect(throws: FieldRuleFailure.self) { try FieldRules.newPassword("1234567").get() }
        #expect(try FieldRules.newPassword(String(repeating: "é", count: 128)).get().count == 128)
        #expect(throws: FieldRuleFailure.self) { try FieldRules.newPassword(String(repeating: "é", count: 129)).get() }
        #expect(try FieldRules.newPassword("👩‍👩‍👧‍👦👩‍👩‍👧‍👦👩‍👩‍👧‍👦👩‍👩‍👧‍👦👩‍👩‍👧‍👦👩‍👩‍👧‍👦👩‍👩‍👧‍👦👩‍👩‍👧‍👦").get().count == 8)
    }

    @Test("Display names and bios are trimmed; control characters are refused")
    func freeText() throws {
        #expect(try FieldRules.displayName("  Alice  ").get() == "Alice")
        #expect(throws: FieldRuleFailure.self) { try FieldRules.displayName("   ").get() }
        #expect(throws: FieldRuleFailure.self) { try FieldRules.displayName("A\u{0}B").get() }
        #expect(throws: FieldRuleFailure.self) { try FieldRules.displayName("two\nlines").get() }
        #expect(try FieldRules.bio("two\nlines").get() == "two\nlines")
        #expect(try FieldRules.bio("").get() == "")
        #expect(throws: FieldRuleFailure.self) { try FieldRules.bio(String(repeating: "b", count: 501)).get() }
    }

    @Test("A validator reports every refused field at once")
    func validatorCollects() {
        var validator = Validator()
        _ = validator.check("username", "a!", FieldRules.username)
        _ = validator.check("email", "fine@example.com", FieldRules.email)
        _ = validator.check("password", "short", FieldRules.newPassword)
        _ = validator.check("bio", nil as String?, FieldRules.bio)
        #expect(throws: Problem.self) { try validator.finish() }
        #expect(validator.errors.map(\.field) == ["username", "password"])
        do {
            try validator.finish()
        } catch {
            #expect(error.code == .validationFailed)
            #expect(error.fieldErrors.count == 2)
        }
    }
}
