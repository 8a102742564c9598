import Foundation
import Models
@testable import Realtime
import TestSupport
import Testing

@Suite("The AsyncAPI contract", .timeLimit(.minutes(1)))
struct ProtocolSpecTests {
    struct Report: Decodable {
        var client: [String]
        var server: [String]
        var closeCodes: [Int]
        var problems: [String]
    }

    static func report() async throws -> Report {
        let spec = Repository.root.appendingPathComponent("asyncapi.yaml").path
        let (status, output) = try await run(["python3", Repository.fixture("check_asyncapi.py"), spec])
        try #require(status == 0, "check_asyncapi.py failed:\n\(output)")
        return try JSONDecoder().decode(Report.self, from: Data(output.utf8))
    }

    @Test("asyncapi.yaml declares exactly the frames, events and close codes the server uses")
    func declaresEverything() async throws {
        let report = try await Self.report()
        #expect(report.problems == [])
        #expect(Set(report.client) == Set(ClientFrame.types))
        #expect(Set(report.server) == Set(serverControlFrameTypes + EventType.all.map(\.rawValue)))
        #expect(Set(report.closeCodes) == Set(CloseCode.all.map { Int($0.code) }))
    }

    @Test("Every control frame the server can build has a declared type")
    func builtFramesAreDeclared() async throws {
        let declared = Set(try await Self.report().server)
        let message = Message(
            id: UUID(), conversationID: UUID(), seq: 1, senderID: UUID(), body: "x", clientMessageID: "c",
            replyToID: nil, createdAt: Date(), editedAt: nil, isDeleted: false
        )
        let user = UUID()
        let frames = [
            try WireJSON.text(HelloFrame(userID: user, sessionID: UUID(), streams: [:], limits: .init(maxFrameBytes: 1, maxQueuedFrames: 1, framesPerSecond: 1, resumeWindowMilliseconds: 1))),
            try WireJSON.text(ResumedFrame(id: nil, streams: [:])),
            try WireJSON.text(ResyncFrame(stream: .user(user), reason: .expired, lastSeq: nil)),
            try WireJSON.text(MessageSentFrame(id: nil, created: true, message: message)),
            try WireJSON.text(AckFrame(id: nil, for: "read")),
            try WireJSON.text(Signal.typing(conversationID: UUID(), userID: user)),
            try WireJSON.text(Signal.presence(userID: user, status: .online, lastSeenAt: nil)),
            try WireJSON.text(PongFrame(id: nil)),
            try WireJSON.text(ErrorFrame(FrameError(id: nil, code: .invalidFrame, detail: "d"))),
            try WireJSON.text(Event(stream: .user(user), seq: 1, ts: Date(), payload: .contactRemoved(ContactRemovedData(userID: user)))),
        ]
        for frame in frames {
            let type = try #require((try JSONSerialization.jsonObject(with: Data(frame.utf8)) as? [String: Any])?["type"] as? String)
            #expect(declared.contains(type), "\(type) is not in asyncapi.yaml")
        }
        #expect(frames.count == serverControlFrameTypes.count + 1)
    }

    @Test("GET /asyncapi.yaml serves the file", arguments: [TestBackend.sqlite])
    func servesTheSpec(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let response = try await running.http.request("GET", "/asyncapi.yaml")
            #expect(response.status == 200)
            #expect(response.body == (try String(contentsOf: Repository.root.appendingPathComponent("asyncapi.yaml"), encoding: .utf8)))
            let plain = try await running.http.request("GET", "/api/v1/realtime")
            #expect(plain.status == 426)
        }
    }
}
