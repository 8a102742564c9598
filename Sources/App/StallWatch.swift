import Logging
import Metrics
import ServiceLifecycle

/// Notices when the process cannot run its tasks on time: it sleeps 20 ms at a time and records
/// how late each wake-up is (`parley_scheduling_delay_seconds`). A late wake-up means the
/// cooperative thread pool (two threads on two cores) was busy or blocked — by synchronous work
/// that belongs on a thread of its own — and every request and delivery waited with it. Delays
/// past 50 ms are logged, at most once every 10 seconds.
struct StallWatch: Service {
    static let period: Duration = .milliseconds(20)
    static let reported: Duration = .milliseconds(50)

    let logger: Logger
    private let delay = Timer(label: "parley_scheduling_delay_seconds")

    init(logger: Logger) {
        self.logger = logger
    }

    func run() async {
        await cancelWhenGracefulShutdown {
            var lastReport = ContinuousClock.now - .seconds(10)
            while !Task.isCancelled {
                let due = ContinuousClock.now + Self.period
                guard (try? await Task.sleep(until: due)) != nil else { return }
                let late = ContinuousClock.now - due
                delay.record(duration: late)
                if late > Self.reported, ContinuousClock.now - lastReport > .seconds(10) {
                    lastReport = ContinuousClock.now
                    logger.notice("Tasks ran late", metadata: ["ms": "\(late / .milliseconds(1))"])
                }
            }
        }
    }
}
