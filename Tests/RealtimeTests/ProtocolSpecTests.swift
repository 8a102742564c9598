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
        #expect(Set(report.server) == Set(ServerFrame.controlTypes + EventType.all.map(\.rawValue)))
        #expect(Set(report.closeCodes) == Set(CloseCode.all.map { Int($0.code) }))
    }

    @Test("Every control frame the server can build has a declared type")
    func builtFramesAreDeclared() async throws {
        let declared = Set(try await Self.report().server)
        let message = Message(
            id: UUID(), conversationID: UUID(), seq: 1, senderID: UUID(), body: "x", clientMessageID: "c",
            replyToID: nil, createdAt: Date(), editedAt: nil, isDeleted: false
        )
        let frames = [
            ServerFrame.encode(ServerFrame.Hello(userId: "u", sessionId: "s", streams: [:], limits: .init(maxFrameBytes: 1, maxQueuedFrames: 1, framesPerSecond: 1, resumeWindowMilliseconds: 1))),
            ServerFrame.encode(ServerFrame.Resumed(id: nil, streams: [:])),
            ServerFrame.encode(ServerFrame.Resync(stream: "s", reason: "expired", lastSeq: nil)),
            ServerFrame.encode(ServerFrame.MessageSent(id: nil, created: true, message: MessagePayload(message))),
            ServerFrame.encode(ServerFrame.Ack(id: nil, for: "read")),
            ServerFrame.encode(ServerFrame.Typing(conversationId: "c", userId: "u", expiresIn: 6)),
            ServerFrame.encode(ServerFrame.PresenceChanged(userId: "u", status: .online, lastSeenAt: nil)),
            ServerFrame.encode(ServerFrame.Pong(id: nil)),
            ServerFrame.error(FrameError(id: nil, code: "invalid_frame", detail: "d")),
            ServerFrame.event(Event(stream: .user(UUID()), seq: 1, type: .userUpdated, data: Data("{}".utf8), ts: Date())),
        ]
        for frame in frames {
            let type = try #require((try JSONSerialization.jsonObject(with: Data(frame.utf8)) as? [String: Any])?["type"] as? String)
            #expect(declared.contains(type), "\(type) is not in asyncapi.yaml")
        }
        #expect(frames.count == ServerFrame.controlTypes.count + 1)
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
