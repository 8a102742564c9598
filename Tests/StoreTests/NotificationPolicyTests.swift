import Foundation
import Models
@testable import Store
import Testing

/// What reaches the inbox and what is pushed, for every level, mute, quiet hours and kind — the
/// table the conversation-preferences operation of openapi.yaml states, row by row.
@Suite("Notification levels, mutes and quiet hours")
struct NotificationPolicyTests {
    /// 2026-12-01 12:00 UTC.
    static let noon = Date(timeIntervalSince1970: 1_796_126_400)

    static func settings(_ level: NotificationLevel, muted: Bool = false, quiet: QuietHours = QuietHours(), pushTo: Int = 1) -> RecipientSettings {
        RecipientSettings(
            level: level,
            mutedUntil: muted ? noon.addingTimeInterval(3600) : nil,
            quietHours: quiet,
            unread: 0,
            subscriptions: (0..<pushTo).map { _ in UUID() }
        )
    }

    /// (level, muted, kind) → (reaches the inbox, is pushed), outside quiet hours.
    static let table: [(NotificationLevel, Bool, NotificationKind, Bool, Bool)] = [
        (.all, false, .direct, true, true), (.all, false, .mention, true, true), (.all, false, .reply, true, true), (.all, false, .addedToGroup, true, true),
        (.mentions, false, .direct, false, false), (.mentions, false, .mention, true, true), (.mentions, false, .reply, true, true), (.mentions, false, .addedToGroup, true, true),
        (.none, false, .direct, false, false), (.none, false, .mention, true, false), (.none, false, .reply, true, false), (.none, false, .addedToGroup, true, true),
        (.all, true, .direct, false, false), (.all, true, .mention, true, false), (.all, true, .reply, true, false), (.all, true, .addedToGroup, true, true),
        (.mentions, true, .direct, false, false), (.mentions, true, .mention, true, false), (.mentions, true, .reply, true, false), (.mentions, true, .addedToGroup, true, true),
        (.none, true, .direct, false, false), (.none, true, .mention, true, false), (.none, true, .reply, true, false), (.none, true, .addedToGroup, true, true),
    ]

    @Test("Every level, mute and kind: the inbox and the push follow the documented table")
    func table() {
        #expect(Self.table.count == 3 * 2 * NotificationKind.allCases.count)
        for (level, muted, kind, inbox, push) in Self.table {
            let recipient = Self.settings(level, muted: muted)
            #expect(recipient.admits(kind, now: Self.noon) == inbox, "\(level) muted=\(muted) \(kind): inbox")
            #expect(recipient.pushes(kind, now: Self.noon) == push, "\(level) muted=\(muted) \(kind): push")
            // No subscription, no push; the inbox is the same.
            #expect(!Self.settings(level, muted: muted, pushTo: 0).pushes(kind, now: Self.noon))
        }
        // A mute that has ended mutes nothing.
        let ended = RecipientSettings(level: .all, mutedUntil: Self.noon.addingTimeInterval(-1), quietHours: QuietHours(), unread: 0, subscriptions: [UUID()])
        #expect(ended.admits(.direct, now: Self.noon) && ended.pushes(.direct, now: Self.noon))
    }

    @Test("Quiet hours hold back every push, invitations too, in the user's time zone and across midnight; the inbox still fills")
    func quietHours() {
        // 12:00 UTC is 13:00 in Paris (winter) and 21:00 in Tokyo.
        let cases: [(QuietHours, Bool)] = [
            (QuietHours(enabled: true, start: "12:30", end: "13:30", timeZone: "Europe/Paris"), true),
            (QuietHours(enabled: true, start: "12:30", end: "13:30", timeZone: "UTC"), false),
            (QuietHours(enabled: true, start: "20:00", end: "07:00", timeZone: "Asia/Tokyo"), true),
            (QuietHours(enabled: true, start: "22:00", end: "07:00", timeZone: "Asia/Tokyo"), false),
            (QuietHours(enabled: true, start: "11:00", end: "06:00", timeZone: "UTC"), true),
            (QuietHours(enabled: false, start: "00:00", end: "23:59", timeZone: "UTC"), false),
            (QuietHours(enabled: true, start: "08:00", end: "08:00", timeZone: "UTC"), false),
            (QuietHours(enabled: true, start: "11:00", end: "13:00", timeZone: "Not/AZone"), false),
        ]
        for (hours, quiet) in cases {
            #expect(hours.covers(Self.noon) == quiet, "\(hours)")
            let recipient = Self.settings(.all, quiet: hours)
            for kind in NotificationKind.allCases {
                #expect(recipient.pushes(kind, now: Self.noon) == !quiet, "\(hours) \(kind)")
                #expect(recipient.admits(kind, now: Self.noon), "quiet hours never empty the inbox")
            }
        }
    }
}
