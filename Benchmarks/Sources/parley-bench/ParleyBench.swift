import ArgumentParser

/// The load tool: each subcommand is one scenario against running Parley servers on loopback.
@main
struct ParleyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley-bench",
        abstract: "Measures running Parley servers on this machine: realtime fan-out, connections, history and sends.",
        discussion: """
            Every scenario registers its own users and builds its own groups through the REST API, \
            drives the real protocol, prints one JSON line of results on standard output and a short \
            table on standard error, and stops by itself. Targets must be loopback addresses; sizes, \
            rates and durations are bounded.
            """,
        subcommands: [Fanout.self, Sweep.self, Connections.self, History.self, Send.self, Hold.self, LoginFlood.self, Media.self]
    )
}
