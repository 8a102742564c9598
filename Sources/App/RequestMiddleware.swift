import API
import Auth
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import Models
import NIOFoundationEssentialsCompat

/// The outermost middleware: gives each request its id (the caller's `X-Request-Id` when sane),
/// binds `RequestInfo`, renders any error that escaped the routes as problem+json, echoes the id,
/// and writes one access-log line — with the client's address (behind `--trusted-proxies`, the one
/// they forwarded), the operation and the user once known, the path without its query, so no token
/// in a URL reaches the log.
struct RequestMiddleware<Context: RequestContext & RemoteAddressRequestContext>: RouterMiddleware {
    static var requestIDField: HTTPField.Name { HTTPField.Name("X-Request-Id")! }
    static var forwardedForField: HTTPField.Name { HTTPField.Name("X-Forwarded-For")! }
    static var forwardedField: HTTPField.Name { HTTPField.Name("Forwarded")! }

    /// Peers whose forwarding headers are believed.
    let proxies: TrustedProxies

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let requestID = Self.acceptableRequestID(request.headers[Self.requestIDField]) ?? Self.newRequestID()
        var context = context
        context.logger[metadataKey: "hb.request.id"] = nil
        context.logger[metadataKey: "request.id"] = "\(requestID)"
        let (proxies, peer, headers) = (proxies, context.remoteAddress, request.headers)
        let info = RequestInfo(
            requestID: requestID,
            clientAddress: {
                proxies.clientAddress(
                    peer: peer?.ipAddress,
                    forwardedFor: headers[Self.forwardedForField],
                    forwarded: headers[Self.forwardedField]
                )
            },
            userAgent: request.headers[.userAgent]
        )
        var response: Response
        do {
            response = try await RequestInfo.$current.withValue(info) { try await next(request, context) }
        } catch {
            response = Self.problemResponse(for: error, requestID: requestID, logger: context.logger)
        }
        response.headers[Self.requestIDField] = requestID
        let elapsed = ContinuousClock.now - start
        if context.logger.logLevel <= .info {
            var metadata: Logger.Metadata = [
                "method": "\(request.method.rawValue)",
                "path": "\(request.uri.path)",
                "status": "\(response.status.code)",
                "ms": "\((elapsed / .microseconds(1)).rounded() / 1000)",
            ]
            if let address = info.clientAddress { metadata["client.address"] = "\(address)" }
            if let operation = info.outcome.operation { metadata["operation"] = "\(operation)" }
            if let user = info.outcome.user { metadata["user.id"] = "\(user.lowercased)" }
            context.logger.info("Request", metadata: metadata)
        }
        // Outside /api/v1 (the page, /readyz) every request counts as "other", which keeps the
        // label set small whatever paths clients try.
        let operation = info.outcome.operation ?? "other"
        Counter(label: "parley_http_requests_total", dimensions: [("operation", operation), ("status", "\(response.status.code)")]).increment()
        Timer(label: "parley_http_request_duration_seconds", dimensions: [("operation", operation)]).record(duration: elapsed)
        return response
    }

    /// A Hummingbird response carrying `answer`.
    static func response(for answer: HTTPProblem, requestID: String) -> Response {
        Response(
            status: .init(code: answer.status),
            headers: ProblemResponse.headerFields(for: answer),
            body: .init(byteBuffer: ByteBuffer(data: ProblemResponse.body(for: answer, requestID: requestID)))
        )
    }

    private static func problemResponse(for error: any Error, requestID: String, logger: Logger) -> Response {
        let answer: HTTPProblem
        if let problem = HTTPProblem.answering(error) {
            answer = problem
        } else if let error = error as? any HTTPResponseError {
            answer = ProblemResponse.problem(forStatus: Int(error.status.code), detail: nil)
        } else {
            answer = HTTPProblem(.internalError)
        }
        if answer.status >= 500 {
            logger.error("Request failed", metadata: ["error.type": "\(String(reflecting: type(of: error)))", "error": "\(error)"])
        }
        return response(for: answer, requestID: requestID)
    }

    /// Up to 128 visible ASCII characters; anything else is replaced by a fresh id.
    static func acceptableRequestID(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value.utf8.count <= 128,
            value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { return nil }
        return value
    }

    /// Sixteen lower-case hex digits of a random number.
    static func newRequestID() -> String {
        var value = UInt64.random(in: .min ... .max)
        return String(unsafeUninitializedCapacity: 16) { digits in
            for index in (0..<16).reversed() {
                let nibble = UInt8(truncatingIfNeeded: value & 0xF)
                digits[index] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
                value >>= 4
            }
            return 16
        }
    }
}

/// Refuses request bodies over the limit with 413 before any handler reads them. Having read the
/// body, it states its length, so that an empty body is known to be empty (see `EmptyBodyMiddleware`).
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Bytes of any body…
    let limit: Int
    /// …but an upload's.
    let uploadLimit: Int
    let uploadPath: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let limit = request.method == .post && request.uri.path == uploadPath ? uploadLimit : limit
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw Problem.payloadTooLarge(limit: limit)
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw Problem.payloadTooLarge(limit: limit)
        }
        var head = request.head
        head.headerFields[.contentLength] = String(body.readableBytes)
        let request = Request(head: head, body: .init(buffer: body))
        return try await next(request, context)
    }
}
