import Bus
import Foundation
import Logging
import Models
import Store

// Presence: who is online, as a node's connections show it. Each node holds a lease on the
// connections it has open and renews it; lapsed leases (closed connections past their grace, nodes
// that died) become departures, announced to the user's co-members and contacts.
extension RealtimeServer {
    /// Tells the contacts and co-members connected here that someone's presence changed.
    func announce(_ signals: AsyncStream<Signal>) async {
        for await signal in signals {
            guard case .presence(let userID, let status, let lastSeenAt) = signal else { continue }
            do {
                let (everyone, showsLastSeen) = try await context.store.presenceAudience(of: userID)
                let audience = everyone.intersection(context.hub.users)
                guard !audience.isEmpty else { continue }
                let frame = try WireJSON.text(Signal.presence(userID: userID, status: status, lastSeenAt: showsLastSeen ? lastSeenAt : nil))
                context.hub.route(frame: frame, to: audience)
            } catch {
                if !Task.isCancelled { context.logger.error("Could not announce a presence change", metadata: ["error": "\(error)"]) }
            }
        }
    }

    /// Renews this node's claim on its open connections, so that they count as long as the node lives.
    func renewPresence() async {
        while (try? await Task.sleep(for: context.configuration.presenceRenewInterval)) != nil {
            let now = context.now()
            do {
                try await context.store.presenceRenewed(
                    node: context.nodeID,
                    connections: context.hub.connectionIDs,
                    until: now.addingTimeInterval(context.configuration.presenceLease),
                    now: now
                )
            } catch {
                if !Task.isCancelled { context.logger.error("Could not renew presence", metadata: ["error": "\(error)"]) }
            }
        }
    }

    /// Turns lapsed claims — closed connections past their grace, nodes that died — into departures.
    func sweepPresence() async {
        while (try? await Task.sleep(for: context.configuration.presenceSweepInterval)) != nil {
            let now = context.now()
            do {
                for userID in try await context.store.presenceExpired(now: now) {
                    try await context.bus.publish(.presence(userID: userID, status: .offline, lastSeenAt: now))
                }
            } catch {
                if !Task.isCancelled { context.logger.error("Could not expire presence", metadata: ["error": "\(error)"]) }
            }
        }
    }
}
