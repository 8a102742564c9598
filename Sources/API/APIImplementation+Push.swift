import Auth
import Crypto
import Foundation
import Models
import Store

extension APIImplementation {
    func getVapidPublicKey(_ input: Operations.GetVapidPublicKey.Input) async throws -> Operations.GetVapidPublicKey.Output {
        _ = try identity()
        // Loaded before the server accepts a request.
        guard let key = push.publicKey else { throw Problem.internalError }
        return .ok(.init(body: .json(.init(publicKey: key))))
    }

    func subscribeToPush(_ input: Operations.SubscribeToPush.Input) async throws -> Operations.SubscribeToPush.Output {
        let identity = try identity()
        guard case .json(let body) = input.body else { throw Problem.badRequest("Send a JSON body.") }
        var validator = Validator()
        let p256dh = validator.check("keys.p256dh", body.keys.p256dh) { raw in
            guard let bytes = Data(base64URLEncoded: raw), bytes.count == 65, (try? P256.KeyAgreement.PublicKey(x963Representation: bytes)) != nil else {
                return .failure(.init(.invalidFormat, "The browser's P-256 public key: 65 bytes, base64url."))
            }
            return .success(raw)
        }
        let auth = validator.check("keys.auth", body.keys.auth) { raw in
            guard let bytes = Data(base64URLEncoded: raw), bytes.count == 16 else {
                return .failure(.init(.invalidFormat, "The browser's auth secret: 16 bytes, base64url."))
            }
            return .success(raw)
        }
        try validator.finish()
        _ = try push.checkEndpoint(body.endpoint)
        let (subscription, created) = try await store.subscribeToPush(user: identity.userID, endpoint: body.endpoint, p256dh: p256dh, auth: auth, now: now())
        return created ? .created(.init(body: .json(subscription))) : .ok(.init(body: .json(subscription)))
    }

    func unsubscribeFromPush(_ input: Operations.UnsubscribeFromPush.Input) async throws -> Operations.UnsubscribeFromPush.Output {
        let identity = try identity()
        let id = try Parameters.pathID(input.path.subscriptionId, "subscription")
        guard try await store.unsubscribeFromPush(user: identity.userID, id: id) else { throw Problem.notFound("No such subscription.") }
        return .noContent(.init())
    }
}
