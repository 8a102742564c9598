import Models
import Testing

@Suite("Mentions in a message body")
struct MentionsTests {
    @Test(
        "Names at word boundaries, case-insensitive, each once, in order",
        arguments: [
            ("@alice hi", ["alice"]),
            ("Hi @Alice, and @BOB.", ["alice", "bob"]),
            ("@alice @alice @ALICE", ["alice"]),
            ("(@carol) [@dave] \"@erin\"", ["carol", "dave", "erin"]),
            ("cc:@frank;@grace!", ["frank", "grace"]),
            ("first.last@example.com and alice@example.com", []),
            ("@@alice", []),
            ("@al", []),
            ("@" + String(repeating: "a", count: 33), []),
            ("@j.doe_2 is here", ["j.doe_2"]),
            ("the end @bob...", ["bob"]),
            ("`@alice` in code, ``@bob`` too, ```\n@carol\n``` and @dave", ["dave"]),
            ("an unclosed `@alice", []),
            ("@all please", ["all"]),
            ("émile@x @Zoë", []),
            ("", []),
        ]
    )
    func names(body: String, expected: [String]) {
        #expect(Mentions.names(in: body) == expected)
    }
}
