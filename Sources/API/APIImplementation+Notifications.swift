import Foundation
import Auth
import Models
import Store

extension APIImplementation {
    func listNotifications(_ input: Operations.ListNotifications.Input) async throws -> Operations.ListNotifications.Output {
        let identity = try identity()
        let limit = try Parameters.limit(input.query.limit, fallback: 20, max: 100)
        let page = try await store.notifications(
            of: identity.userID,
            unreadOnly: input.query.unread ?? false,
            limit: limit,
            cursor: input.query.cursor
        )
        return .ok(.init(body: .json(page)))
    }

    func readNotifications(_ input: Operations.ReadNotifications.Input) async throws -> Operations.ReadNotifications.Output {
        let identity = try identity()
        guard case .json(let body) = input.body else { throw Problem.badRequest("Send a JSON body.") }
        guard body.ids != nil || body.before != nil else {
            throw Problem.invalidField("ids", .required, "Name the notifications (`ids`), or a time (`before`).")
        }
        let ids = try body.ids.map { raw throws(Problem) in try Parameters.ids(raw, field: "ids") }
        let unread = try await store.readNotifications(of: identity.userID, ids: ids, before: body.before, now: now())
        return .ok(.init(body: .json(.init(unreadCount: unread))))
    }
}
