import Auth
import Foundation
import Models
import OpenAPIRuntime
import Store

extension APIImplementation {
    func requestExport(_ input: Operations.RequestExport.Input) async throws -> Operations.RequestExport.Output {
        let export = try await store.requestExport(userID: try identity().userID, now: now())
        return .accepted(.init(body: .json(.init(export, links: store.media, now: now()))))
    }

    func getExport(_ input: Operations.GetExport.Input) async throws -> Operations.GetExport.Output {
        guard let export = try await store.latestExport(of: try identity().userID) else {
            throw Problem.notFound("No archive was asked for yet.")
        }
        return .ok(.init(body: .json(.init(export, links: store.media, now: now()))))
    }

    func downloadExport(_ input: Operations.DownloadExport.Input) async throws -> Operations.DownloadExport.Output {
        let id = try Parameters.pathID(input.path.exportId, "archive")
        guard let expires = input.query.exp, let signature = input.query.sig, Double(expires) > now().timeIntervalSince1970,
            store.media.verifyExport(id, expires: expires, signature: signature)
        else { throw Problem.forbidden("This link is not valid, or has expired.") }
        guard let export = try await store.readyExport(id), let size = export.size, let readyAt = export.readyAt else {
            throw Problem.notFound("This archive is gone.")
        }
        let day = readyAt.formatted(.iso8601.year().month().day())
        return .ok(
            .init(
                headers: .init(contentDisposition: "attachment; filename=\"parley-export-\(day).jsonl\""),
                body: .applicationXNdjson(HTTPBody(store.exportChunks(id), length: .known(size), iterationBehavior: .single))
            )
        )
    }
}

extension Components.Schemas.DataExport {
    /// An export as its owner sees it: with its signed link while the archive is kept.
    init(_ export: DataExport, links: MediaLinks, now: Date) {
        let expiresAt = export.readyAt.map { $0.addingTimeInterval(Store.exportLifetime) }
        let url = expiresAt.flatMap { $0 > now ? links.exportURL(export.id, expires: Int64($0.timeIntervalSince1970)) : nil }
        self.init(
            id: export.id.lowercased,
            status: export.readyAt == nil ? .pending : .ready,
            createdAt: export.createdAt,
            readyAt: export.readyAt,
            size: export.size,
            url: url,
            expiresAt: url == nil ? nil : expiresAt
        )
    }
}
