import Foundation
import Logging
import Synchronization

/// Writes each record as one JSON object per line, for log collectors (`--log-format json`):
/// `ts`, `level`, `label`, `message`, `node`, then every metadata item as a field of its own — on a
/// request's line `request.id`, `operation`, `method`, `path`, `status`, `ms` and `user.id`.
struct JSONLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    private let label: String
    private let node: String

    private static let numericKeys: Set<String> = ["status", "ms", "bytes"]

    /// One lock for every handler of the process: lines never interleave.
    private static let output = Mutex<Void>(())

    init(label: String, node: String) {
        self.label = label
        self.node = node
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(
        level: Logger.Level,
        message: Logger.Message,
        metadata explicit: Logger.Metadata?,
        source: String,
        file: String,
        function: String,
        line: UInt
    ) {
        var fields: [String: Any] = [:]
        for (key, value) in metadata.merging(explicit ?? [:], uniquingKeysWith: { _, new in new }) {
            fields[key] = Self.json(value)
            // Counts and durations as numbers, so that collectors can sum and compare them.
            if Self.numericKeys.contains(key), case .string(let text) = value, let number = Double(text) { fields[key] = number }
        }
        fields["ts"] = Date().formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true).timeZone(separator: .omitted))
        fields["level"] = level.rawValue
        fields["label"] = label
        fields["message"] = message.description
        fields["node"] = node
        guard var data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        data.append(0x0A)
        Self.output.withLock { _ in FileHandle.standardOutput.write(data) }
    }

    private static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): values.map(json)
        case .dictionary(let values): values.mapValues(json)
        }
    }
}
