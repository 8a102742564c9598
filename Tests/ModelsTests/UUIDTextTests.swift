import Foundation
import Models
import Testing

@Suite("Id text")
struct UUIDTextTests {
    @Test("Ids are written and read as Foundation writes and reads them, in lower case on the wire")
    func sameAsFoundation() {
        for _ in 0..<1_000 {
            let id = UUID()
            #expect(id.lowercased == id.uuidString.lowercased())
            #expect(UUID(text: id.uuidString) == id)
            #expect(UUID(text: id.lowercased) == id)
        }
        let edges = UUID(uuid: (0x00, 0x09, 0x0a, 0x0f, 0x10, 0x90, 0xa0, 0xf0, 0xff, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd))
        #expect(edges.lowercased == "00090a0f-1090-a0f0-ff01-23456789abcd")
        #expect(UUID(text: "00090A0F-1090-a0F0-FF01-23456789ABcd") == edges)
    }

    @Test(
        "Anything but 8-4-4-4-12 hexadecimal digits is refused, as UUID(uuidString:) refuses it",
        arguments: [
            "", "00090a0f-1090-a0f0-ff01-23456789abc", "00090a0f-1090-a0f0-ff01-23456789abcd0",
            "00090a0f1090-a0f0-ff01-23456789abcd0", "00090a0f-1090-a0f0-ff01023456789abcd",
            "{00090a0f-1090-a0f0-ff01-23456789abcd}", "00090a0g-1090-a0f0-ff01-23456789abcd",
            "00090a0f-1090-a0f0-ff01-23456789abc:", "00090a0f-1090-a0f0-ff01-23456789abc/",
            "00090a0f-1090-a0f0-ff01-23456789abcé",
        ]
    )
    func refused(text: String) {
        #expect(UUID(text: text) == nil)
        #expect(UUID(uuidString: text) == nil)
    }

    @Test("A space is not a digit (Foundation's sscanf lets one through before a pair of digits)")
    func spaces() {
        #expect(UUID(text: " 0090a0f-1090-a0f0-ff01-23456789abcd") == nil)
        #expect(UUID(text: "00090a0f-1090-a0f0-ff01- 3456789abcd") == nil)
    }
}
