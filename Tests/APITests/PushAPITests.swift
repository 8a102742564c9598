import Crypto
import Foundation
import ParleyClient
import HTTPTypes
import HummingbirdTesting
import Models
import TestSupport
import Testing

@Suite("Web Push subscriptions", .timeLimit(.minutes(1)))
struct PushAPITests {
    /// A browser's keys, as `PushSubscription.toJSON()` gives them.
    static let keys: Components.Schemas.PushSubscriptionRequest.KeysPayload = {
        let key = P256.KeyAgreement.PrivateKey().publicKey.x963Representation
        return .init(p256dh: key.base64URLEncodedString(), auth: Data((0..<16).map { UInt8($0) }).base64URLEncodedString())
    }()

    @Test("The VAPID key is one P-256 point, the same on every node")
    func vapidKey() async throws {
        try await withTwoNodes(.sqlite) { first, second in
            let token = try await first.register("alice").accessToken
            let one = try await first.api(token: token).getVapidPublicKey().ok.body.json.publicKey
            let two = try await second.api(token: token).getVapidPublicKey().ok.body.json.publicKey
            #expect(one == two)
            var base64 = one.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
            let point = try #require(Data(base64Encoded: base64))
            #expect(point.count == 65 && point.first == 0x04)
            #expect(try await first.api.getVapidPublicKey().unauthorized.body.applicationProblemJson.code == "unauthorized")
        }
    }

    @Test(
        "Endpoints inside the server's network are refused (no request forgery), and so are bad keys",
        arguments: [
            "http://push.example.com/x", "https://127.0.0.1/push", "https://localhost/push", "https://[::1]/push", "https://10.1.2.3/push",
            "https://192.168.0.10/push", "https://172.20.0.1/push", "https://169.254.169.254/latest/meta-data", "https://[fd00::1]/push",
            "https://0.0.0.0/push", "not a url", "https://user:secret@8.8.8.8/push", "file:///etc/passwd",
        ]
    )
    func refusedEndpoints(endpoint: String) async throws {
        try await withApp(.sqlite) { app in
            let token = try await app.register("alice").accessToken
            let answer = try await app.api(token: token).subscribeToPush(body: .json(.init(endpoint: endpoint, keys: Self.keys)))
            let problem = try answer.badRequest.body.applicationProblemJson
            #expect(problem.errors?.map(\.field) == ["endpoint"], "\(endpoint)")
        }
    }

    @Test("A public https endpoint is kept once per endpoint and removed by its owner only; keys are checked")
    func subscriptions() async throws {
        try await withApp(.sqlite) { app in
            let alice = try await app.register("alice").accessToken
            let bob = try await app.register("bob").accessToken
            // A public address: subscribing resolves it, and sends nothing.
            let endpoint = "https://8.8.8.8/push/alice"
            let created = try await app.api(token: alice).subscribeToPush(body: .json(.init(endpoint: endpoint, keys: Self.keys))).created.body.json
            #expect(created.endpoint == endpoint)
            let again = try await app.api(token: alice).subscribeToPush(body: .json(.init(endpoint: endpoint, keys: Self.keys))).ok.body.json
            #expect(again.id == created.id)
            #expect(try await app.api(token: bob).unsubscribeFromPush(path: .init(subscriptionId: created.id)).notFound.body.applicationProblemJson.code == "not_found")
            #expect(try await app.api(token: alice).unsubscribeFromPush(path: .init(subscriptionId: created.id)).noContent != nil)

            let badKeys = try await app.api(token: alice).subscribeToPush(
                body: .json(.init(endpoint: endpoint, keys: .init(p256dh: "AAAA", auth: "too-long-for-sixteen-bytes-of-auth")))
            ).badRequest.body.applicationProblemJson
            #expect(Set(badKeys.errors?.map(\.field) ?? []) == ["keys.p256dh", "keys.auth"])
        }
    }
}
