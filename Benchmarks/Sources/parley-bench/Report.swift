import Foundation

/// Prints a scenario's results: one JSON line on standard output (and appended to `--output`),
/// and a two-column table for people on standard error.
func report<Result: Encodable>(_ result: Result, table: [(String, String)], output: OutputOptions) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let line = String(decoding: try encoder.encode(result), as: UTF8.self)
    print(line)
    if let path = output.output {
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let file = FileHandle(forWritingAtPath: path) else { throw BenchError("cannot write \(path)") }
        defer { try? file.close() }
        try file.seekToEnd()
        try file.write(contentsOf: Data((line + "\n").utf8))
    }
    let width = table.map(\.0.count).max() ?? 0
    for (name, value) in table {
        note(name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
    }
}

/// A line of progress or results for people, on standard error.
func note(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// A failure of a benchmark run, with what went wrong.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Double {
    /// Rounded to `places` decimals, for reports.
    func rounded(_ places: Int) -> Double {
        let scale = Foundation.pow(10, Double(places))
        return (self * scale).rounded() / scale
    }
}
