import Logging

/// swift-log's text format (`StreamLogHandler` on standard output), with metadata kept aside and
/// rendered only for a record that is written. `StreamLogHandler` renders all of its metadata again
/// whenever one item changes, and every request changes its logger's request id — twice per
/// request even at a level that writes nothing.
struct TextLogHandler: LogHandler {
    private var output: StreamLogHandler
    var metadata: Logger.Metadata = [:]

    init(label: String) {
        output = StreamLogHandler.standardOutput(label: label)
    }

    var logLevel: Logger.Level {
        get { output.logLevel }
        set { output.logLevel = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        event.metadata = metadata.merging(event.metadata ?? [:]) { _, explicit in explicit }
        output.log(event: event)
    }
}
